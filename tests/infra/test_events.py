"""The domain-event bus has a construct of its own (``infra.constructs.events``): the ingest
publishes on it, a subscriber needs only it, and the deployed bus is not replaced."""

from __future__ import annotations

from aws_cdk import App, Names, Stack
from aws_cdk import aws_events as events
from aws_cdk.assertions import Template
from constructs import Construct

from infra import outputs
from infra.constructs.events import LEGACY_LOGICAL_ID, Events, generated_name
from tests.infra.conftest import Synthesized


def test_the_bus_keeps_the_logical_id_and_name_it_was_deployed_with(synth: Synthesized) -> None:
    # A different logical id or name would make CloudFormation replace the bus.
    assert (
        synth.output_target(outputs.EVENT_BUS_NAME) == LEGACY_LOGICAL_ID == "IngestEventsEF99370A"
    )
    assert synth.properties(LEGACY_LOGICAL_ID)["Name"] == "TallyIngestEventsEDF5A552"
    assert len(synth.resources("AWS::Events::EventBus")) == 1


def test_the_ingest_is_told_the_bus(synth: Synthesized) -> None:
    ingest = synth.properties(synth.output_target(outputs.INGEST_FUNCTION_NAME))
    assert ingest["Environment"]["Variables"]["TALLY_EVENT_BUS_NAME"] == {"Ref": LEGACY_LOGICAL_ID}


def test_generated_name_is_the_name_cdk_generates() -> None:
    app = App()
    stack = Stack(app, "Tally")
    ingest = Construct(stack, "Ingest")
    bus = events.EventBus(ingest, "Events")
    assert generated_name(("Tally", "Ingest", "Events")) == Names.unique_id(bus)
    assert Template.from_stack(stack).to_json()["Resources"][
        Stack.of(bus).get_logical_id(bus.node.default_child)  # type: ignore[arg-type]
    ]["Properties"]["Name"] == Names.unique_id(bus)


def test_a_subscriber_needs_only_the_events_construct() -> None:
    stack = Stack(App(), "Alone")
    domain_events = Events(stack, "Events")
    events.Rule(
        stack,
        "Ingested",
        event_bus=domain_events.event_bus,
        event_pattern=events.EventPattern(detail_type=["CostsIngested"]),
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Events::EventBus", 1)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventBusName": {"Ref": LEGACY_LOGICAL_ID},
            "EventPattern": {"detail-type": ["CostsIngested"]},
        },
    )
