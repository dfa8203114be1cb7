"""Alarms on what the issue lists, all to the operations topic; one CloudWatch dashboard."""

from __future__ import annotations

import json

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
