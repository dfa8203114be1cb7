"""Alarms on what the issue lists, all to the operations topic; one CloudWatch dashboard."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra import outputs
from tally.tables import ALL_TABLES, TableSpec
from tests.infra.conftest import Synthesized


def _alarms(synth: Synthesized) -> dict[str, dict]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
    }


def test_every_alarm_notifies_the_operations_topic(synth: Synthesized) -> None:
    topic = synth.output_target(outputs.OPERATIONS_TOPIC_ARN)
    alarms = _alarms(synth)
    assert alarms
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": topic}], name
        assert alarm["TreatMissingData"] == "notBreaching", name


@pytest.mark.parametrize(
    ("name", "metric"),
    [
        ("api-errors", "Errors"),
        ("api-throttles", "Throttles"),
        ("ingest-errors", "Errors"),
        ("ingest-throttles", "Throttles"),
        ("api-5xx-rate", "5XXError"),
        ("api-latency-p90", "Latency"),
        ("ingest-dead-letters", "ApproximateNumberOfMessagesVisible"),
        ("email-delivery-dead-letters", "ApproximateNumberOfMessagesVisible"),
    ],
)
def test_alarm(synth: Synthesized, name: str, metric: str) -> None:
    alarm = _alarms(synth)[f"Tally-{name}"]
    assert alarm["MetricName"] == metric


def test_function_alarms_watch_their_function(synth: Synthesized) -> None:
    alarms = _alarms(synth)
    for name, output_id in (
        ("api", outputs.API_FUNCTION_NAME),
        ("ingest", outputs.INGEST_FUNCTION_NAME),
    ):
        dimensions = alarms[f"Tally-{name}-errors"]["Dimensions"]
        assert dimensions == [
            {"Name": "FunctionName", "Value": {"Ref": synth.output_target(output_id)}}
        ]


@pytest.mark.parametrize("spec", ALL_TABLES, ids=lambda spec: spec.key)
def test_every_table_has_a_throttle_alarm(synth: Synthesized, spec: TableSpec) -> None:
    alarm = _alarms(synth)[f"Tally-table-{spec.key}-throttles"]
    names = {
        query["MetricStat"]["Metric"]["MetricName"]
        for query in alarm["Metrics"]
        if "MetricStat" in query
    }
    assert names == {"ReadThrottleEvents", "WriteThrottleEvents"}


def test_dashboard_shows_api_functions_queues_and_tables(synth: Synthesized) -> None:
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("5XXError", "Latency", "Invocations", "ApproximateNumberOfMessagesVisible"):
        assert metric in body
    assert "ConsumedReadCapacityUnits" in body


# -- runbooks, the functions' own metrics -----------------------------------------------------

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
RUNBOOK = re.compile(r" Runbook: (?P<url>\S+)#(?P<section>[a-z0-9-]+)$")


def _sections() -> set[str]:
    """The anchors of docs/operations.md's sections, as a Markdown renderer makes them."""
    headings = re.findall(r"^## (.+)$", OPERATIONS.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_alarm_links_to_its_runbook_section(synth: Synthesized) -> None:
    sections = _sections()
    for name, alarm in _alarms(synth).items():
        found = RUNBOOK.search(alarm["AlarmDescription"])
        assert found, f"{name} has no runbook link"
        assert found["url"] == "docs/operations.md", name
        assert found["section"] in sections, f"{name}: no '## {found['section']}' section"


def test_the_runbook_url_is_a_setting(variant: Synthesized) -> None:
    for name, alarm in _alarms(variant).items():
        assert (
            "Runbook: https://git.example.org/tally/blob/main/docs/operations.md#"
            in alarm["AlarmDescription"]
        ), name


def test_the_ingest_lag_alarm_watches_the_newest_costs_age(synth: Synthesized) -> None:
    alarm = _alarms(synth)["Tally-ingest-lag"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("Tally", "IngestLag")
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "tally-ingest"}]
    assert (alarm["Statistic"], alarm["Period"]) == ("Maximum", 86400)
    assert alarm["Threshold"] == 48 * 3600


def test_dashboard_shows_the_api_per_route_and_the_ingest(synth: Synthesized) -> None:
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for title in (
        "API requests by route",
        "API server errors by route",
        "API latency p90 by route (ms)",
        "Ingest lag: age of the newest costs (hours)",
        "Alert emails (per hour)",
    ):
        assert title in body
    # The route dimension's values are searched at view time, not listed at synth.
    for search in (
        "MetricName=\\\\\\\"Latency\\\\\\\"', 'SampleCount'",
        "MetricName=\\\\\\\"Latency\\\\\\\"', 'p90'",
        "MetricName=\\\\\\\"ServerErrors\\\\\\\"', 'Sum'",
    ):
        assert search in body, search
    assert "{Tally,route,service} service=" in body
    for metric in ("IngestLines", "IngestRecords", "IngestLag"):
        assert metric in body
