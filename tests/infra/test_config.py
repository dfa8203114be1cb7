"""Context values: cdk.json's defaults, CLI strings coerced, mistakes refused at synth."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App

from infra.config import ConfigError, TallyConfig, cdk_json_context
from tests.infra.conftest import VARIANT_CONTEXT


def _config(**overrides: Any) -> TallyConfig:
    return TallyConfig.from_context(App(context={**cdk_json_context(), **overrides}).node)


def test_defaults_documented_in_cdk_json() -> None:
    config = _config()
    assert config.schedule_expression == "cron(0 0 * * ? *)"
    assert config.cost_source == "cost-explorer"
    assert config.owner_tag_key == "Owner"
    assert config.enable_waf is False
    assert config.waf_rate_limit == 1000
    assert config.dashboard_web_acl_arn is None
    assert config.require_admin_mfa is True  # admins need TOTP unless the operator opts out
    assert config.budget_metric == "effective"
    assert config.restatement_days == 3
    assert config.dashboard_domain is None
    assert config.uses_placeholders


def test_cli_strings_are_coerced() -> None:
    config = _config(**VARIANT_CONTEXT)
    assert config.enable_waf is True
    assert config.require_mfa is True
    assert (config.api_throttle_rate, config.api_throttle_burst) == (7, 9)
    assert config.waf_rate_limit == 600
    assert config.restatement_days == 5
    assert not config.uses_placeholders


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("senderEmail", "not-an-address", "senderEmail"),
        ("costSource", "duckdb", "cost-explorer, focus, athena"),
        ("budgetMetric", "amortized", "billed, effective"),
        ("scheduleExpression", "0 0 * * *", "scheduleExpression"),
        ("enableWaf", "maybe", "enableWaf"),
        ("apiThrottleRate", "0", "apiThrottleRate"),
        ("apiThrottleBurst", "10", "apiThrottleBurst"),
        ("logRetentionDays", "42", "logRetentionDays"),
        ("defaultCurrency", "usd", "defaultCurrency"),
        ("dashboardDomain", "tally.example.org", "dashboardCertificateArn"),
        ("wafRateLimit", "9", "AWS WAF's lowest"),
        ("wafRateLimit", "lots", "wafRateLimit"),
        # Lambda's SQS event source takes a maximum concurrency of 2 to 1000.
        ("ingestWorkers", "1", "between 2 and 1000"),
        ("ingestWorkers", "1001", "between 2 and 1000"),
        ("ingestWorkers", "many", "ingestWorkers"),
        # A regional ACL, or one outside us-east-1, cannot front CloudFront.
        (
            "dashboardWebAclArn",
            "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/tally/0a1b",
            "CLOUDFRONT-scope",
        ),
    ],
)
def test_mistakes_fail_the_synth_with_the_key(key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _config(**{key: value})


def test_a_missing_required_value_is_named() -> None:
    context = cdk_json_context()
    del context["adminEmail"]
    with pytest.raises(ConfigError, match="adminEmail"):
        TallyConfig.from_context(App(context=context).node)


def test_observability_settings() -> None:
    # Defaults: no Sentry, the runbooks beside the code, the API without the X-Ray SDK.
    config = _config()
    assert config.sentry_dsn_secret_name is None
    assert config.runbook_url == "docs/operations.md"
    assert config.api_xray_sdk is False
    variant = _config(**VARIANT_CONTEXT)
    assert variant.sentry_dsn_secret_name == "tally/sentry-dsn"
    assert variant.runbook_url.startswith("https://")
    assert variant.api_xray_sdk is True
    with pytest.raises(ConfigError, match="apiXraySdk"):
        _config(apiXraySdk="sometimes")


def test_ingest_workers() -> None:
    assert _config().ingest_workers == 10
    assert _config(**VARIANT_CONTEXT).ingest_workers == int(VARIANT_CONTEXT["ingestWorkers"])


MEMBER_ROLE = "arn:aws:iam::210987654321:role/TallyEstateRead"


def test_the_estate_read_role() -> None:
    # Default: the inventory reads this stack's own account.
    assert _config().estate_read_role_arn is None
    assert _config().estate_account is None
    config = _config(estateReadRoleArn=f" {MEMBER_ROLE} ")
    assert config.estate_read_role_arn == MEMBER_ROLE
    assert config.estate_account == "210987654321"
    # A refresh invokes the inventory, which assumes the role: it still works.
    assert _config(estateReadRoleArn=MEMBER_ROLE, estateActions="refresh").estate_actions == (
        "refresh",
    )


@pytest.mark.parametrize(
    "value",
    [
        "TallyEstateRead",
        "arn:aws:iam::21098765432:role/TallyEstateRead",  # 11 digits
        "arn:aws:iam::210987654321:user/TallyEstateRead",
        "arn:aws:sts::210987654321:assumed-role/TallyEstateRead/x",
        "arn:aws:iam::210987654321:role/",
    ],
)
def test_an_estate_read_role_that_is_not_a_role_arn_fails_the_synth(value: str) -> None:
    with pytest.raises(ConfigError, match="estateReadRoleArn"):
        _config(estateReadRoleArn=value)


def test_actions_on_the_own_account_refuse_another_accounts_estate() -> None:
    # The management function acts with its own role on its own account.
    with pytest.raises(ConfigError, match=r"estateActions.*lambda, iam"):
        _config(estateReadRoleArn=MEMBER_ROLE, estateActions="lambda,iam,refresh")
    with pytest.raises(ConfigError, match="estateActions"):
        _config(estateReadRoleArn=MEMBER_ROLE, estateActions="all")


def test_the_member_accounts_role_config() -> None:
    from infra.config import EstateReadRoleConfig

    def config(**context: Any) -> EstateReadRoleConfig:
        return EstateReadRoleConfig.from_context(App(context=context).node)

    trusted = "arn:aws:iam::123456789012:role/Tally-InventoryFunctionServiceRole1A2B3C-XyZ"
    assert not EstateReadRoleConfig.asked(App(context=cdk_json_context()).node)
    assert EstateReadRoleConfig.asked(App(context={"estateReadRoleFor": trusted}).node)
    assert config(estateReadRoleFor=trusted).regions == ()
    assert config(estateReadRoleFor=trusted, estateRegions="eu-west-1,us-east-1").regions == (
        "eu-west-1",
        "us-east-1",
    )
    with pytest.raises(ConfigError, match="estateReadRoleFor"):
        config(estateReadRoleFor="123456789012")  # an account is not the inventory's role
    with pytest.raises(ConfigError, match="estateReadRoleFor"):
        config()
    with pytest.raises(ConfigError, match="estateRegions"):
        config(estateReadRoleFor=trusted, estateRegions="everywhere")
