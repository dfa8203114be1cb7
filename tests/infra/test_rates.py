"""The rates function (issue 17): its handler, its daily schedule after the ECB publishes, its
role (writes the billing table, nothing else of the data), the feed setting, its alarms; the
API and the alerts reach the billing table."""

from __future__ import annotations

from typing import Any

from infra.constructs import rates as construct
from infra.nag import flatten_reference
from tests.infra.conftest import Synthesized
from tests.infra.test_iam import _as_list, _statements

ECB_DAILY = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"


def _function(synth: Synthesized) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (logical_id, f["Properties"])
        for logical_id, f in synth.resources("AWS::Lambda::Function").items()
        if f["Properties"].get("Handler") == "rates.handler.lambda_handler"
    ]
    return found


def _table_grants(synth: Synthesized, role: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for statement in _statements(synth, role):
        for action in _as_list(statement["Action"]):
            if action.startswith("dynamodb:"):
                out.setdefault(action, set()).update(
                    flatten_reference(r) for r in _as_list(statement["Resource"])
                )
    return out


def test_the_function_runs_daily_after_the_ecb_publishes(synth: Synthesized) -> None:
    function_id, props = _function(synth)
    assert props["Environment"]["Variables"]["TALLY_RATES_URL"] == ECB_DAILY
    (schedule,) = [
        s["Properties"]
        for s in synth.resources("AWS::Scheduler::Schedule").values()
        if s["Properties"]["ScheduleExpression"] == construct.SCHEDULE
    ]
    assert construct.SCHEDULE == "cron(0 17 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Etc/UTC"
    assert schedule["Target"]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert "DeadLetterConfig" in schedule["Target"]


def test_its_role_writes_the_billing_table_and_no_other_table(synth: Synthesized) -> None:
    _, props = _function(synth)
    grants = _table_grants(synth, props["Role"]["Fn::GetAtt"][0])
    assert "dynamodb:BatchWriteItem" in grants
    assert "dynamodb:Scan" not in grants and "dynamodb:Query" not in grants
    every = set().union(*grants.values())
    assert every and all("Billing" in r for r in every), every


def test_the_api_and_the_alerts_reach_the_billing_table(synth: Synthesized) -> None:
    by_handler = {
        f["Properties"].get("Handler"): f["Properties"]["Role"]["Fn::GetAtt"][0]
        for f in synth.resources("AWS::Lambda::Function").values()
    }
    api = _table_grants(synth, by_handler["api.handler.lambda_handler"])
    assert any("Billing" in r for r in api["dynamodb:PutItem"])
    assert not any("Billing" in r for r in api.get("dynamodb:Scan", set()))
    alerts = _table_grants(synth, by_handler["alerts.handler.lambda_handler"])
    assert any("Billing" in r for r in alerts["dynamodb:Query"])
    assert not any("Billing" in r for r in alerts.get("dynamodb:PutItem", set()))


def test_errors_and_dead_letters_have_alarms(synth: Synthesized) -> None:
    names = {
        flatten_reference(a["Properties"]["AlarmName"])
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
    }
    assert any(n.endswith("-rates-errors") for n in names)
    assert any(n.endswith("-rates-dead-letters") for n in names)
