"""AWS WAF (``enableWaf``): the API's regional web ACL is in test_api.py; here the dashboard's.
A CLOUDFRONT-scope web ACL can only be made in us-east-1: a stack there makes its own, a stack
elsewhere attaches the one ``dashboardWebAclArn`` names, and without either the synth warns."""

from __future__ import annotations

import pytest
from aws_cdk import Environment
from aws_cdk.assertions import Annotations, Match

from infra.constructs.waf import DASHBOARD_MANAGED_RULES, RATE_WINDOW_SECONDS
from infra.stack import DASHBOARD_WITHOUT_WAF_WARNING
from tests.infra.conftest import Synthesized, synthesize

ACL_ARN = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/tally-dashboard/0a1b2c3d-4e5f"


@pytest.fixture(scope="module")
def in_us_east_1() -> Synthesized:
    return synthesize(
        {"enableWaf": "true", "wafRateLimit": "250"},
        env=Environment(account="123456789012", region="us-east-1"),
    )


@pytest.fixture(scope="module")
def named_acl() -> Synthesized:
    return synthesize(
        {"dashboardWebAclArn": ACL_ARN},
        env=Environment(account="123456789012", region="eu-west-1"),
    )


def _distribution(synth: Synthesized) -> dict:
    (distribution,) = synth.resources("AWS::CloudFront::Distribution").values()
    return dict(distribution["Properties"]["DistributionConfig"])


def test_a_stack_in_us_east_1_puts_its_own_acl_in_front_of_the_dashboard(
    in_us_east_1: Synthesized,
) -> None:
    acls = in_us_east_1.resources("AWS::WAFv2::WebACL")
    assert sorted(a["Properties"]["Scope"] for a in acls.values()) == ["CLOUDFRONT", "REGIONAL"]
    ((acl_id, acl),) = [(k, a) for k, a in acls.items() if a["Properties"]["Scope"] == "CLOUDFRONT"]
    rules = acl["Properties"]["Rules"]
    assert [r["Name"] for r in rules] == ["RatePerIp", *DASHBOARD_MANAGED_RULES]
    assert rules[0]["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": 250,
        "EvaluationWindowSec": RATE_WINDOW_SECONDS,
    }
    assert _distribution(in_us_east_1)["WebACLId"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    # The API's ACL has the same rate limit.
    (api_acl,) = [a for a in acls.values() if a["Properties"]["Scope"] == "REGIONAL"]
    assert api_acl["Properties"]["Rules"][0]["Statement"]["RateBasedStatement"]["Limit"] == 250


def test_elsewhere_the_named_acl_is_attached(named_acl: Synthesized) -> None:
    assert _distribution(named_acl)["WebACLId"] == ACL_ARN
    assert not named_acl.resources("AWS::WAFv2::WebACL")  # enableWaf off: no API ACL


def test_elsewhere_without_a_named_acl_the_synth_warns(
    synth: Synthesized, variant: Synthesized
) -> None:
    # The variant turns WAF on without a region: only the API gets an ACL.
    assert [a["Properties"]["Scope"] for a in variant.resources("AWS::WAFv2::WebACL").values()] == [
        "REGIONAL"
    ]
    assert "WebACLId" not in _distribution(variant)
    Annotations.from_stack(variant.stack).has_warning(
        "*", Match.string_like_regexp(f".*dashboardWebAclArn.*{DASHBOARD_WITHOUT_WAF_WARNING}.*")
    )
    # WAF off: no warning, no ACL.
    assert not synth.resources("AWS::WAFv2::WebACL")
    assert not Annotations.from_stack(synth.stack).find_warning(
        "*", Match.string_like_regexp(f".*{DASHBOARD_WITHOUT_WAF_WARNING}.*")
    )
