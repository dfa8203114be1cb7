"""The management function's settings: the shared ones (``tally.settings``) plus the account
and regions it manages, the IAM path it may act under and the topic its alarms notify
(``tally.estate.actions.settings`` documents each variable)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from tally.estate.actions.settings import (
    ACCOUNT_VARIABLE,
    ALARM_TOPIC_VARIABLE,
    IAM_PATH_VARIABLE,
    REGIONS_VARIABLE,
    iam_path,
)
from tally.settings import ConfigurationError, Environment, FunctionSettings


@dataclass(frozen=True)
class ManagementSettings(FunctionSettings):
    estate_account: str = ""
    regions: tuple[str, ...] = ()
    iam_path: str = "/"
    alarm_topic_arn: str | None = None

    variables: ClassVar[tuple[str, ...]] = (
        ACCOUNT_VARIABLE,
        REGIONS_VARIABLE,
        IAM_PATH_VARIABLE,
        ALARM_TOPIC_VARIABLE,
    )

    @classmethod
    def parse(cls, env: Environment) -> dict[str, Any]:
        account = (env[ACCOUNT_VARIABLE] or "").strip()
        if not account.isdigit() or len(account) != 12:
            raise ConfigurationError(
                f"environment variable {ACCOUNT_VARIABLE} must be an account id"
            )
        regions = tuple(r.strip() for r in (env[REGIONS_VARIABLE] or "").split(",") if r.strip())
        return {
            "estate_account": account,
            "regions": regions,
            "iam_path": iam_path(env[IAM_PATH_VARIABLE]),
            "alarm_topic_arn": (env[ALARM_TOPIC_VARIABLE] or "").strip() or None,
        }

    @property
    def managed_regions(self) -> tuple[str, ...]:
        return self.regions or (self.region,)
