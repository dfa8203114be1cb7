"""Configuration, read from the environment once per cold start; a missing value fails loudly."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any, ClassVar, Literal, Self, cast

from tally.paging import PageKeys
from tally.tables import ALL_TABLES

BudgetMetric = Literal["billed", "effective"]
ClaimUnowned = Literal["hold", "accept"]


class ConfigurationError(RuntimeError):
    pass


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ConfigurationError(f"environment variable {name} is required")
    return value


def _tag_map(raw: str) -> dict[str, str]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"TALLY_OWNER_TAG_MAP is not JSON: {error}") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigurationError("TALLY_OWNER_TAG_MAP must be a JSON object of strings")
    return value


def _accounts(raw: str) -> frozenset[str]:
    accounts = frozenset(a.strip() for a in raw.split(",") if a.strip())
    bad = sorted(a for a in accounts if not re.fullmatch(r"\d{12}", a))
    if bad:
        raise ConfigurationError(f"TALLY_ORG_ACCOUNTS: not 12-digit account ids: {bad}")
    return accounts


# How long a warm container trusts the access facts it read (TALLY_ACCESS_CACHE_SECONDS):
# the longest a revoked role keeps working. Five minutes at most, as documented.
ACCESS_CACHE_SECONDS = 60.0
ACCESS_CACHE_MAX_SECONDS = 300.0


def access_cache_seconds(env: Mapping[str, str] | None = None) -> float:
    """TALLY_ACCESS_CACHE_SECONDS: 0 (no cache) to 300, 60 when unset."""
    raw = (env if env is not None else os.environ).get("TALLY_ACCESS_CACHE_SECONDS", "").strip()
    if not raw:
        return ACCESS_CACHE_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        raise ConfigurationError("TALLY_ACCESS_CACHE_SECONDS must be a number") from None
    if not 0 <= seconds <= ACCESS_CACHE_MAX_SECONDS:
        raise ConfigurationError(
            f"TALLY_ACCESS_CACHE_SECONDS must be between 0 and {ACCESS_CACHE_MAX_SECONDS:.0f}"
        )
    return seconds


@dataclass(frozen=True)
class Settings:
    region: str
    table_names: dict[str, str]  # TableSpec.key -> physical name
    # The page-token keys when the environment holds them (tests, the benchmark). A deployed
    # API names a Secrets Manager secret instead (page_token_secret_id), so no function's
    # configuration shows a key: see ``page_token_secret``.
    page_token_keys: PageKeys | None
    page_token_secret_id: str | None = None
    # Only set on the local stack: every AWS client and pynamodb model goes to the emulator.
    aws_endpoint_url: str | None = None
    owner_tag_key: str = "Owner"
    # Owner tag value -> user id, username or email, for tags that name no user directly.
    owner_tag_map: dict[str, str] = field(default_factory=dict)
    # effective (amortized: a Savings Plan or RI purchase is spread over the days it covers,
    # so it never lands whole on one person's budget on one day) | billed (unblended)
    budget_metric: BudgetMetric = "effective"
    default_currency: str = "USD"
    # A claim of a resource nobody owns: held for an admin (hold) or accepted at once (accept).
    claim_unowned: ClaimUnowned = "hold"
    # AWS accounts whose resources may be assigned or claimed; empty: the API's own account.
    org_accounts: frozenset[str] = frozenset()
    # Seconds the access cache (tally.authz.authorizer.CachedAccessSource) trusts a read.
    access_cache_seconds: float = ACCESS_CACHE_SECONDS

    @classmethod
    def from_env(cls) -> Settings:
        metric = os.environ.get("TALLY_BUDGET_METRIC", "effective")
        if metric not in ("billed", "effective"):
            raise ConfigurationError("TALLY_BUDGET_METRIC must be 'billed' or 'effective'")
        unowned = os.environ.get("TALLY_CLAIM_UNOWNED", "hold")
        if unowned not in ("hold", "accept"):
            raise ConfigurationError("TALLY_CLAIM_UNOWNED must be 'hold' or 'accept'")
        accounts = _accounts(os.environ.get("TALLY_ORG_ACCOUNTS", ""))
        return cls(
            region=_required("AWS_REGION"),
            table_names={spec.key: _required(spec.env_var) for spec in ALL_TABLES},
            page_token_keys=(
                PageKeys.of(literal)
                if (literal := os.environ.get("TALLY_PAGE_TOKEN_SECRET"))
                else None
            ),
            page_token_secret_id=os.environ.get("TALLY_PAGE_TOKEN_SECRET_ID") or None,
            aws_endpoint_url=os.environ.get("TALLY_AWS_ENDPOINT_URL") or None,
            owner_tag_key=os.environ.get("TALLY_OWNER_TAG_KEY", "Owner"),
            owner_tag_map=_tag_map(os.environ.get("TALLY_OWNER_TAG_MAP", "")),
            budget_metric=cast(BudgetMetric, metric),
            default_currency=os.environ.get("TALLY_DEFAULT_CURRENCY", "USD"),
            claim_unowned=cast(ClaimUnowned, unowned),
            org_accounts=accounts,
            access_cache_seconds=access_cache_seconds(),
        )

    @property
    def page_token_secret(self) -> PageKeys:
        """The keys that sign and verify page tokens: the environment's, or the secret's,
        read on first use and again every ``PAGE_KEYS_MAX_AGE`` seconds, so a rotated key
        reaches every warm function within that time."""
        if self.page_token_keys is not None:
            return self.page_token_keys
        if not self.page_token_secret_id:
            raise ConfigurationError(
                "TALLY_PAGE_TOKEN_SECRET_ID (or TALLY_PAGE_TOKEN_SECRET) is required to page"
            )
        value = _secrets(self.region, self.aws_endpoint_url).get(
            self.page_token_secret_id, max_age=PAGE_KEYS_MAX_AGE, transform="json"
        )
        if not isinstance(value, dict):
            raise ConfigurationError("the page-token secret must be a JSON object")
        try:
            return PageKeys.from_secret(value)
        except ValueError as error:
            raise ConfigurationError(str(error)) from None


# Seconds a function keeps the page-token keys before reading the secret again.
PAGE_KEYS_MAX_AGE = 300


@lru_cache(maxsize=4)
def _secrets(region: str, endpoint_url: str | None) -> Any:
    """Powertools' Secrets Manager provider, whose cache lives as long as the container."""
    import boto3
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    client = boto3.client("secretsmanager", region_name=region, endpoint_url=endpoint_url)
    return SecretsProvider(boto3_client=client)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


Environment = Mapping[str, str | None]


@dataclass(frozen=True)
class FunctionSettings(Settings):
    """One function's settings: the shared ``Settings`` plus the variables only that function
    reads. A subclass names them in ``variables`` and parses them in ``parse``, which sees
    exactly those names (None when unset), so a variable it forgot to declare reads as unset
    in its tests too. ``load()`` is the function's ``get_settings``.
    """

    variables: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def parse(cls, env: Environment) -> dict[str, Any]:
        """The function's own fields from ``env``; a missing or bad value raises
        ``ConfigurationError`` naming its variable."""
        return {}

    @classmethod
    def from_env(cls) -> Self:
        """Read afresh, uncached (``load`` is what a function calls)."""
        return cls._build(Settings.from_env(), _own_variables(cls, os.environ))

    @classmethod
    def _build(cls, shared: Settings, own: Environment) -> Self:
        values = {f.name: getattr(shared, f.name) for f in fields(Settings)}
        return cls(**values, **cls.parse(own))

    @classmethod
    def load(cls) -> Self:
        """Parsed on the container's first call (its cold start), then kept. Read again only
        when the shared settings were reloaded or one of ``variables`` changed: tests and the
        local stack set some after import, and reading and comparing a few variables costs a
        few microseconds a call. In Lambda the environment never changes: it parses once."""
        shared = get_settings()
        own = _own_variables(cls, os.environ)
        key = tuple(own.values())
        kept = _loaded.get(cls)
        if kept is not None and kept[0] is shared and kept[1] == key:
            return cast(Self, kept[2])
        loaded = cls._build(shared, own)
        _loaded[cls] = (shared, key, loaded)
        return loaded


# Per settings class: the shared settings and the own variables it was parsed from, and it.
_loaded: dict[type[FunctionSettings], tuple[Settings, tuple[str | None, ...], Settings]] = {}


def _own_variables(cls: type[FunctionSettings], env: Mapping[str, str]) -> dict[str, str | None]:
    return {name: env.get(name) for name in cls.variables}
