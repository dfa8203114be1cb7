"""The deployment's settings, read once from CDK context (``cdk.json`` or ``-c key=value``).

Context given on the command line always arrives as a string (``-c enableWaf=true``), so every
value is coerced and checked here: a typo fails the synth with a message naming the key, not a
deploy twenty minutes later.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from constructs import Node

from infra.constructs.inventory import role_account
from infra.constructs.lambda_factory import log_retention
from infra.constructs.waf import MIN_RATE_LIMIT as MIN_WAF_RATE_LIMIT
from tally.sources.selection import DEPLOYABLE_SOURCE_KINDS as COST_SOURCES

BUDGET_METRICS = ("billed", "effective")
CLAIM_UNOWNED = ("hold", "accept")
# Payment providers (issue 17, infra/constructs/payments.py); "" (the default): payments off.
PAYMENT_PROVIDERS = ("stripe",)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SCHEDULE = re.compile(r"^(cron|rate|at)\(.+\)$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Athena's lowest BytesScannedCutoffPerQuery: 10 MB.
MIN_BYTES_SCANNED_CUTOFF = 10_000_000
# A CLOUDFRONT-scope web ACL: global, so its ARN always names us-east-1.
_CLOUDFRONT_WEB_ACL = re.compile(
    r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/[\w-]+/[\w-]+$"
)
# Lambda's bounds for an SQS event source's MaximumConcurrency.
MIN_SQS_CONCURRENCY = 2
MAX_SQS_CONCURRENCY = 1000
# The documented placeholders in cdk.json: fine for `make synth`, useless for a deployment.
PLACEHOLDER_DOMAIN = "example.com"

# The management action families that still work when the estate is another account's: a
# refresh invokes the inventory function, which assumes the read role.
CROSS_ACCOUNT_ACTION_FAMILIES = ("refresh",)
# Context that makes the app the member account's read role instead of the Tally stack.
ESTATE_READ_ROLE_FOR = "estateReadRoleFor"

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"

T = TypeVar("T")


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The context defaults of ``cdk.json``: the CDK CLI passes them to the app itself, but
    ``python app.py`` and the tests have to read them."""
    context = json.loads(path.read_text())["context"]
    assert isinstance(context, dict)
    return context


class ConfigError(ValueError):
    """A context value is missing or malformed."""


@dataclass(frozen=True, kw_only=True)
class TallyConfig:
    sender_email: str
    admin_email: str
    dashboard_domain: str | None
    dashboard_certificate_arn: str | None
    schedule_expression: str
    api_throttle_rate: int
    api_throttle_burst: int
    cost_source: str
    owner_tag_key: str
    owner_tag_map: dict[str, str]
    enable_waf: bool
    budget_metric: str
    restatement_days: int
    default_currency: str
    require_mfa: bool
    require_admin_mfa: bool
    cognito_email_via_ses: bool
    log_retention_days: int
    export_retention_days: int
    claim_unowned: str = "hold"
    # AWS accounts whose resources users may claim and admins assign; empty: this stack's own.
    org_accounts: tuple[str, ...] = ()
    # The organisation's name on PDF invoices (the reports function's TALLY_ORG_NAME).
    org_name: str = "Tally"
    # Cognito groups named "<prefix><team id>" become teams (the access migration's team
    # sync); None: teams come from the API and the dashboard only.
    team_group_prefix: str | None = None
    # The WAF rate-based rule: requests per client IP per 5 minutes (infra/constructs/waf.py).
    waf_rate_limit: int = 1000
    # A CLOUDFRONT-scope web ACL (made in us-east-1) for the dashboard, for stacks outside
    # us-east-1, which cannot make one themselves; None: the stack's own (in us-east-1) or none.
    dashboard_web_acl_arn: str | None = None
    # Error tracking: the Secrets Manager secret holding the Sentry DSN; None: Sentry is off
    # and never loaded (tally.observability).
    sentry_dsn_secret_name: str | None = None
    # Where the alarms' runbook links point: docs/operations.md as the operators read it (a
    # repository URL); the alarm descriptions append "#<alarm>".
    runbook_url: str = "docs/operations.md"
    # The rates function's feed (functions/rates): an ECB-format reference-rates document over
    # HTTPS; the 90-day history URL backfills a missed day.
    rates_url: str = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
    # The X-Ray SDK in the API function (subsegments per DynamoDB call) at ~100-200 ms of
    # each cold start; off, Lambda's active tracing still records the function's segment.
    api_xray_sdk: bool = False
    # The ingest fan-out: at most this many worker invocations read the batches queue at once
    # (the SQS event source's maximum concurrency; infra/constructs/ingest.py).
    ingest_workers: int = 10
    # costSource=athena: the Data Export's data folder in the exports bucket (the prefix that
    # holds its BILLING_PERIOD=YYYY-MM/ folders), and what one Athena query may scan at most.
    athena_export_prefix: str = "focus/data/"
    athena_bytes_scanned_cutoff: int = 10 * 1024**3
    # The regions the estate inventory reads (issue 15); empty: the deployment's region.
    estate_regions: tuple[str, ...] = ()
    # The estate's management action families turned on (lambda, iam, alarms, refresh); none
    # by default, so the estate views run read-only until an operator turns one on.
    estate_actions: tuple[str, ...] = ()
    # The IAM path the management function may act under (users only; "/" is every user).
    estate_iam_path: str = "/"
    # Another account's read-only role the inventory assumes (infra/estate_read_role.py);
    # None: the inventory reads this stack's own account with its own role.
    estate_read_role_arn: str | None = None
    # Payments (infra/constructs/payments.py): "stripe" makes the Stripe keys' secret and the
    # webhook route; None (the default): neither exists and issuing answers "not configured".
    payments: str | None = None
    # The webhook's own throttle (requests per second, and burst) at the API stage.
    payments_webhook_rate: int = 10
    payments_webhook_burst: int = 20
    # The chargeback journal's account codes (tally.payments.journal): debited per unit, and
    # the central cloud-costs account credited.
    journal_expense_account: str = "6100"
    journal_cloud_account: str = "6190"

    @property
    def estate_account(self) -> str | None:
        """The account the estate views show when it is not this stack's: the read role's."""
        return role_account(self.estate_read_role_arn) if self.estate_read_role_arn else None

    @property
    def uses_placeholders(self) -> bool:
        return any(
            email.endswith("@" + PLACEHOLDER_DOMAIN)
            for email in (self.sender_email, self.admin_email)
        )

    @classmethod
    def from_context(cls, node: Node) -> TallyConfig:
        def get(key: str, parse: Callable[[str, Any], T], default: Any = None) -> T:
            value = node.try_get_context(key)
            if value is None:
                value = default
            if value is None:
                raise ConfigError(f"context value {key!r} is required (cdk.json or -c {key}=...)")
            try:
                return parse(key, value)
            except (TypeError, ValueError) as error:
                raise ConfigError(f"context value {key!r}: {error}") from None

        dashboard_domain = get("dashboardDomain", _optional_text, "")
        certificate_arn = get("dashboardCertificateArn", _optional_text, "")
        if dashboard_domain and not certificate_arn:
            raise ConfigError(
                "context value 'dashboardDomain' needs 'dashboardCertificateArn' too: "
                "an ACM certificate in us-east-1 that covers the domain"
            )
        throttle_rate = get("apiThrottleRate", _positive_int)
        throttle_burst = get("apiThrottleBurst", _positive_int)
        if throttle_burst < throttle_rate:
            # API Gateway accepts it, but a burst below the rate throttles every steady client.
            raise ConfigError("'apiThrottleBurst' must be at least 'apiThrottleRate'")
        estate_actions = get("estateActions", _action_families, [])
        estate_read_role_arn = get("estateReadRoleArn", _optional_role_arn, "")
        acting = [f for f in estate_actions if f not in CROSS_ACCOUNT_ACTION_FAMILIES]
        if estate_read_role_arn and acting:
            # The management function acts with its own role on its own account; the cache
            # would be another account's, so every action would be refused or, by name, miss.
            raise ConfigError(
                f"context value 'estateActions': {', '.join(acting)} act on this stack's own "
                "account, but 'estateReadRoleArn' reads another one; with it only "
                f"{', '.join(CROSS_ACCOUNT_ACTION_FAMILIES)} can be turned on"
            )
        return cls(
            sender_email=get("senderEmail", _email),
            admin_email=get("adminEmail", _email),
            dashboard_domain=dashboard_domain,
            dashboard_certificate_arn=certificate_arn,
            schedule_expression=get("scheduleExpression", _schedule),
            api_throttle_rate=throttle_rate,
            api_throttle_burst=throttle_burst,
            cost_source=get("costSource", _one_of(COST_SOURCES)),
            owner_tag_key=get("ownerTagKey", _text),
            owner_tag_map=get("ownerTagMap", _tag_map, {}),
            enable_waf=get("enableWaf", _bool, False),
            budget_metric=get("budgetMetric", _one_of(BUDGET_METRICS), "effective"),
            restatement_days=get("restatementDays", _positive_int, 3),
            default_currency=get("defaultCurrency", _currency, "USD"),
            require_mfa=get("requireMfa", _bool, False),
            # Admins hold every user's data: TOTP unless the operator explicitly opts out.
            require_admin_mfa=get("requireAdminMfa", _bool, True),
            cognito_email_via_ses=get("cognitoEmailViaSes", _bool, False),
            log_retention_days=get("logRetentionDays", _retention, 90),
            export_retention_days=get("exportRetentionDays", _positive_int, 400),
            claim_unowned=get("claimUnowned", _one_of(CLAIM_UNOWNED), "hold"),
            org_accounts=get("orgAccounts", _accounts, []),
            org_name=get("orgName", _text, "Tally"),
            team_group_prefix=get("teamGroupPrefix", _optional_text, ""),
            waf_rate_limit=get("wafRateLimit", _waf_rate_limit, 1000),
            dashboard_web_acl_arn=get("dashboardWebAclArn", _cloudfront_web_acl, ""),
            sentry_dsn_secret_name=get("sentryDsnSecretName", _optional_text, ""),
            runbook_url=get("runbookUrl", _text, "docs/operations.md"),
            rates_url=get(
                "ratesUrl",
                _https_url,
                "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml",
            ),
            api_xray_sdk=get("apiXraySdk", _bool, False),
            ingest_workers=get("ingestWorkers", _max_concurrency, 10),
            athena_export_prefix=get("athenaExportPrefix", _export_prefix, "focus/data/"),
            athena_bytes_scanned_cutoff=get(
                "athenaBytesScannedCutoff", _bytes_scanned_cutoff, 10 * 1024**3
            ),
            estate_regions=get("estateRegions", _regions, []),
            estate_actions=estate_actions,
            estate_iam_path=get("estateIamPath", _iam_path, "/"),
            estate_read_role_arn=estate_read_role_arn,
            payments=get("payments", _optional_one_of(PAYMENT_PROVIDERS), ""),
            payments_webhook_rate=get("paymentsWebhookRate", _positive_int, 10),
            payments_webhook_burst=get("paymentsWebhookBurst", _positive_int, 20),
            **_journal_accounts(
                get("journalExpenseAccount", _text, "6100"),
                get("journalCloudAccount", _text, "6190"),
            ),
        )


@dataclass(frozen=True, kw_only=True)
class EstateReadRoleConfig:
    """The member account's side (``infra/estate_read_role.py``): whom its read role trusts
    and the regions whose functions it may read (the Tally stack's ``estateRegions``)."""

    # The Tally stack's inventory role (output InventoryRoleArn).
    trusted_role_arn: str
    # Empty: the region the role's stack is deployed to.
    regions: tuple[str, ...] = ()

    @classmethod
    def asked(cls, node: Node) -> bool:
        return bool(str(node.try_get_context(ESTATE_READ_ROLE_FOR) or "").strip())

    @classmethod
    def from_context(cls, node: Node) -> EstateReadRoleConfig:
        try:
            trusted = _optional_role_arn(
                ESTATE_READ_ROLE_FOR, node.try_get_context(ESTATE_READ_ROLE_FOR) or ""
            )
            if trusted is None:
                raise ValueError("is required: the Tally stack's output InventoryRoleArn")
        except ValueError as error:
            raise ConfigError(f"context value {ESTATE_READ_ROLE_FOR!r}: {error}") from None
        try:
            regions = _regions("estateRegions", node.try_get_context("estateRegions") or [])
        except ValueError as error:
            raise ConfigError(f"context value 'estateRegions': {error}") from None
        return cls(trusted_role_arn=trusted, regions=regions)


def _tag_map(key: str, value: Any) -> dict[str, str]:
    """Owner tag value -> user: e.g. {"team-data": "<sub or username or email>"}."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip()
        for k, v in value.items()
    ):
        raise ValueError("must be an object of non-empty strings (tag value -> user)")
    return dict(value)


def _text(key: str, value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("must not be empty")
    return text


def _https_url(key: str, value: Any) -> str:
    text = _text(key, value)
    if not re.fullmatch(r"https://[^\s/]+(/\S*)?", text):
        raise ValueError(f"{text!r} is not an https:// address")
    return text


def _optional_text(key: str, value: Any) -> str | None:
    return str(value).strip() or None


def _journal_accounts(expense: str, cloud: str) -> dict[str, str]:
    """The journal's two account codes, checked as the API checks them."""
    from tally.payments.journal import (
        CLOUD_ACCOUNT_VARIABLE,
        EXPENSE_ACCOUNT_VARIABLE,
        JournalAccounts,
    )
    from tally.settings import ConfigurationError

    try:
        accounts = JournalAccounts.from_env(
            {EXPENSE_ACCOUNT_VARIABLE: expense, CLOUD_ACCOUNT_VARIABLE: cloud}
        )
    except ConfigurationError as error:
        names = {
            EXPENSE_ACCOUNT_VARIABLE: "journalExpenseAccount",
            CLOUD_ACCOUNT_VARIABLE: "journalCloudAccount",
        }
        message = str(error)
        for variable, key in names.items():
            message = message.replace(variable, repr(key))
        raise ConfigError(f"context value {message}") from None
    return {"journal_expense_account": accounts.expense, "journal_cloud_account": accounts.cloud}


def _optional_one_of(choices: tuple[str, ...]) -> Callable[[str, Any], str | None]:
    def parse(key: str, value: Any) -> str | None:
        text = _optional_text(key, value)
        if text is not None and text not in choices:
            raise ValueError(f"{text!r} is not one of {', '.join(choices)} (or empty: off)")
        return text

    return parse


def _email(key: str, value: Any) -> str:
    text = _text(key, value)
    if not _EMAIL.match(text):
        raise ValueError(f"{text!r} is not an email address")
    return text


def _schedule(key: str, value: Any) -> str:
    text = _text(key, value)
    if not _SCHEDULE.match(text):
        raise ValueError(
            f"{text!r} is not an EventBridge Scheduler expression (cron(...), rate(...))"
        )
    return text


def _currency(key: str, value: Any) -> str:
    text = _text(key, value)
    if not _CURRENCY.match(text):
        raise ValueError(f"{text!r} is not an ISO 4217 currency code")
    return text


def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


def _max_concurrency(key: str, value: Any) -> int:
    number = _positive_int(key, value)
    if not MIN_SQS_CONCURRENCY <= number <= MAX_SQS_CONCURRENCY:
        raise ValueError(
            f"must be between {MIN_SQS_CONCURRENCY} and {MAX_SQS_CONCURRENCY} "
            "(the SQS event source's maximum concurrency)"
        )
    return number


def _retention(key: str, value: Any) -> int:
    days = _positive_int(key, value)
    log_retention(days)  # raises ValueError for a period CloudWatch Logs does not offer
    return days


def _waf_rate_limit(key: str, value: Any) -> int:
    number = _positive_int(key, value)
    if number < MIN_WAF_RATE_LIMIT:
        raise ValueError(f"must be at least {MIN_WAF_RATE_LIMIT} (AWS WAF's lowest rate limit)")
    return number


def _cloudfront_web_acl(key: str, value: Any) -> str | None:
    text = _optional_text(key, value)
    if text and not _CLOUDFRONT_WEB_ACL.match(text):
        raise ValueError(
            f"{text!r} is not the ARN of a CLOUDFRONT-scope web ACL "
            "(arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>)"
        )
    return text


def _export_prefix(key: str, value: Any) -> str:
    """A key prefix in the exports bucket, as a folder: ``focus/data/`` (no leading slash)."""
    text = _text(key, value).strip("/")
    if not text or "*" in text or "${" in text:
        raise ValueError(f"{value!r} is not a folder of the exports bucket (focus/data/)")
    return text + "/"


def _bytes_scanned_cutoff(key: str, value: Any) -> int:
    number = _positive_int(key, value)
    if number < MIN_BYTES_SCANNED_CUTOFF:
        raise ValueError(f"must be at least {MIN_BYTES_SCANNED_CUTOFF} (Athena's lowest limit)")
    return number


def _bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    raise ValueError(f"{value!r} is not true or false")


_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def _regions(key: str, value: Any) -> tuple[str, ...]:
    """AWS regions (us-east-1, eu-west-2, ...): a list, or one comma-separated string."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError("must be a list of AWS regions")
    regions = tuple(dict.fromkeys(str(r).strip() for r in items if str(r).strip()))
    if not all(_REGION.match(r) for r in regions):
        raise ValueError("must be a list of AWS regions such as us-east-1")
    return regions


def _action_families(key: str, value: Any) -> tuple[str, ...]:
    """Estate action families: a list, or one comma-separated string (``all``: every one)."""
    from tally.estate.actions.catalog import ACTION_FAMILIES

    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError(f"must be a list of {', '.join(ACTION_FAMILIES)}")
    families = tuple(dict.fromkeys(str(f).strip().lower() for f in items if str(f).strip()))
    if families == ("all",):
        return ACTION_FAMILIES
    if not set(families) <= set(ACTION_FAMILIES):
        raise ValueError(f"must be a list of {', '.join(ACTION_FAMILIES)} (or all)")
    return families


def _iam_path(key: str, value: Any) -> str:
    from tally.estate.actions.settings import IAM_PATH

    if not isinstance(value, str) or not IAM_PATH.fullmatch(value):
        raise ValueError("must be an IAM path such as / or /tally-managed/")
    return value


def _optional_role_arn(key: str, value: Any) -> str | None:
    text = _optional_text(key, value)
    if text:
        role_account(text)  # raises ValueError for anything but an IAM role ARN
    return text


def _accounts(key: str, value: Any) -> tuple[str, ...]:
    """12-digit AWS account ids: a list, or one comma-separated string."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError("must be a list of 12-digit AWS account ids")
    accounts = tuple(str(a).strip() for a in items if str(a).strip())
    if not all(a.isdigit() and len(a) == 12 for a in accounts):
        raise ValueError("must be a list of 12-digit AWS account ids")
    return accounts


def _one_of(choices: tuple[str, ...]) -> Callable[[str, Any], str]:
    def parse(key: str, value: Any) -> str:
        text = _text(key, value)
        if text not in choices:
            raise ValueError(f"{text!r} is not one of {', '.join(choices)}")
        return text

    return parse
