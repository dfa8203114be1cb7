"""Configuration, read from the environment once per cold start; a missing value fails loudly."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, cast

from tally.tables import ALL_TABLES

BudgetMetric = Literal["billed", "effective"]


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


@dataclass(frozen=True)
class Settings:
    region: str
    table_names: dict[str, str]  # TableSpec.key -> physical name
    page_token_secret: bytes
    # Only set on the local stack: every AWS client and pynamodb model goes to the emulator.
    aws_endpoint_url: str | None = None
    owner_tag_key: str = "Owner"
    # Owner tag value -> user id, username or email, for tags that name no user directly.
    owner_tag_map: dict[str, str] = field(default_factory=dict)
    # effective (amortized: a Savings Plan or RI purchase is spread over the days it covers,
    # so it never lands whole on one person's budget on one day) | billed (unblended)
    budget_metric: BudgetMetric = "effective"
    default_currency: str = "USD"

    @classmethod
    def from_env(cls) -> Settings:
        metric = os.environ.get("TALLY_BUDGET_METRIC", "effective")
        if metric not in ("billed", "effective"):
            raise ConfigurationError("TALLY_BUDGET_METRIC must be 'billed' or 'effective'")
        return cls(
            region=_required("AWS_REGION"),
            table_names={spec.key: _required(spec.env_var) for spec in ALL_TABLES},
            page_token_secret=_required("TALLY_PAGE_TOKEN_SECRET").encode(),
            aws_endpoint_url=os.environ.get("TALLY_AWS_ENDPOINT_URL") or None,
            owner_tag_key=os.environ.get("TALLY_OWNER_TAG_KEY", "Owner"),
            owner_tag_map=_tag_map(os.environ.get("TALLY_OWNER_TAG_MAP", "")),
            budget_metric=cast(BudgetMetric, metric),
            default_currency=os.environ.get("TALLY_DEFAULT_CURRENCY", "USD"),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
