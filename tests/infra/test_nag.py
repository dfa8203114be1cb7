"""cdk-nag: both packs find nothing unacknowledged, and every acknowledgement is reasoned and
answers a finding that really exists (no blanket or stale acknowledgements)."""

from __future__ import annotations

import pytest
from aws_cdk import App

from infra import nag
from tests.infra.conftest import Synthesized


def _findings(app: App) -> list[tuple[str, str]]:
    found = []
    for pack in nag.rule_packs():
        report = pack.validate_scope(app)
        for violation in report.violations:
            for resource in violation.violating_resources:
                found.append((violation.rule_name, resource.construct_path or "?"))
    return sorted(found)


@pytest.mark.parametrize("which", ["synth", "variant", "deployed"])
def test_no_unacknowledged_findings(which: str, request: pytest.FixtureRequest) -> None:
    synthesized: Synthesized = request.getfixturevalue(which)
    assert _findings(synthesized.app) == []


@pytest.mark.parametrize("which", ["synth", "variant"])
def test_every_acknowledgement_has_a_reason(which: str, request: pytest.FixtureRequest) -> None:
    synthesized: Synthesized = request.getfixturevalue(which)
    acknowledgements = list(nag.recorded_acknowledgements(synthesized.app))
    assert acknowledgements, "expected the acknowledged findings (X-Ray, Cost Explorer, ...)"
    unreasoned = [
        (a.path, a.rule_id)
        for a in acknowledgements
        if len(a.reason.strip()) < nag.MIN_REASON_LENGTH
    ]
    assert unreasoned == []


def test_acknowledge_refuses_an_empty_reason(synth: Synthesized) -> None:
    with pytest.raises(ValueError, match="real reason"):
        nag.acknowledge(synth.stack, "AwsSolutions-S1", "   ")


def test_every_acknowledgement_answers_a_finding(synth: Synthesized, unacknowledged: App) -> None:
    # Given the same app built without acknowledgements, when both packs run over it,
    # then each acknowledgement covers a finding at or below its construct.
    findings = _findings(unacknowledged)
    stale = [
        (a.path, a.rule_id)
        for a in nag.recorded_acknowledgements(synth.app)
        if not any(
            rule == a.rule_id and (path == a.path or path.startswith(a.path + "/"))
            for rule, path in findings
        )
    ]
    assert stale == []


def test_synth_fails_on_an_unacknowledged_finding(unacknowledged: App) -> None:
    # build_app registers the packs as validation plugins, so synth itself refuses.
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        unacknowledged.synth()


def test_only_the_expected_rules_are_acknowledged(synth: Synthesized) -> None:
    rules = {a.rule_id.split("[")[0] for a in nag.recorded_acknowledgements(synth.app)}
    assert rules == {
        "AwsSolutions-IAM5",  # X-Ray, Cost Explorer, resource validation, exports, invoke
        "AwsSolutions-IAM4",  # API Gateway's account-wide CloudWatch role
        "AwsSolutions-SMG4",  # page-token and unsubscribe key rotation
        "AwsSolutions-COG2",  # MFA optional (requireMfa)
        "AwsSolutions-COG8",  # Cognito Plus tier
        "AwsSolutions-APIG3",  # WAF off (enableWaf)
        "AwsSolutions-APIG4",  # the public unsubscribe link (its signed token authorises)
        "AwsSolutions-COG4",  # the same two methods
        "AwsSolutions-CFR1",  # geo restriction
        "AwsSolutions-CFR2",  # CloudFront WAF
        "AwsSolutions-CFR4",  # default certificate (dashboardDomain)
        "AwsSolutions-SQS3",  # the SNS dead-letter queue
        "Serverless-SQSRedrivePolicy",  # dead-letter queues
        "Serverless-LambdaDLQ",  # the synchronously invoked API function
        "Serverless-LambdaEventSourceMappingDestination",  # SQS: the queue's redrive policy
        "Serverless-LambdaLatestVersion",  # CDK's BucketDeployment handler (dashboard)
        "Serverless-LambdaTracing",  # the same handler
        "AwsSolutions-L1",  # the same handler
    }


def test_optional_features_remove_their_acknowledgements(variant: Synthesized) -> None:
    rules = {a.rule_id for a in nag.recorded_acknowledgements(variant.app)}
    assert not rules & {"AwsSolutions-APIG3", "AwsSolutions-COG2", "AwsSolutions-CFR4"}
