"""What a deployment lets the estate's management actions do, read from the environment of
the function that serves them (the API; the management function reads the IAM path too).

- ``TALLY_ESTATE_ACTIONS``: the action families turned on, comma-separated, from
  ``lambda``, ``iam``, ``alarms``, ``refresh``; unset or empty: none (every family is off by
  default, so an organisation can run the estate views read-only). ``all`` turns every one
  on (the local demo does).
- ``TALLY_ESTATE_IAM_PATH``: the IAM path the management role may act under (default ``/``,
  every user); users outside it are refused before any call, and the role's policy refuses
  them again (``infra/constructs/management.py``).
- ``TALLY_ESTATE_ACCOUNT`` and ``TALLY_ESTATE_REGIONS``: the account and regions the estate
  cache holds (as the inventory reads them; regions default to the function's region).
- ``TALLY_ESTATE_ALARM_TOPIC_ARN``: the SNS topic alarms Tally creates notify (the alerts
  machinery turns its messages into the owners' notifications); required for ``alarms``.
- ``TALLY_MANAGEMENT_FUNCTION`` and ``TALLY_INVENTORY_FUNCTION``: the functions the API
  invokes to perform an action and to refresh; ``TALLY_ESTATE_IN_PROCESS=true`` runs both
  handlers in the API's own process instead (the local stack and tests only: moto's Lambda
  needs Docker).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tally.estate.actions.catalog import ACTION_FAMILIES, ActionFamily
from tally.settings import ConfigurationError

ACTIONS_VARIABLE = "TALLY_ESTATE_ACTIONS"
IAM_PATH_VARIABLE = "TALLY_ESTATE_IAM_PATH"
ACCOUNT_VARIABLE = "TALLY_ESTATE_ACCOUNT"
REGIONS_VARIABLE = "TALLY_ESTATE_REGIONS"
ALARM_TOPIC_VARIABLE = "TALLY_ESTATE_ALARM_TOPIC_ARN"
MANAGEMENT_FUNCTION_VARIABLE = "TALLY_MANAGEMENT_FUNCTION"
INVENTORY_FUNCTION_VARIABLE = "TALLY_INVENTORY_FUNCTION"
IN_PROCESS_VARIABLE = "TALLY_ESTATE_IN_PROCESS"
VARIABLES = (
    ACTIONS_VARIABLE,
    IAM_PATH_VARIABLE,
    ACCOUNT_VARIABLE,
    REGIONS_VARIABLE,
    ALARM_TOPIC_VARIABLE,
    MANAGEMENT_FUNCTION_VARIABLE,
    INVENTORY_FUNCTION_VARIABLE,
    IN_PROCESS_VARIABLE,
)
DEFAULT_IAM_PATH = "/"
# IAM's own rule for a path: "/" or "/a/b/" of printable ASCII without "/" doubled.
IAM_PATH = re.compile(r"^/([\x21-\x2e\x30-\x7e]+/)*$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


@dataclass(frozen=True)
class ActionSettings:
    families: frozenset[ActionFamily] = frozenset()
    iam_path: str = DEFAULT_IAM_PATH
    account: str = ""
    regions: tuple[str, ...] = ()
    alarm_topic_arn: str | None = None
    management_function: str | None = None
    inventory_function: str | None = None
    in_process: bool = False

    def enabled(self, family: ActionFamily) -> bool:
        return family in self.families


def iam_path(raw: str | None) -> str:
    path = (raw or "").strip() or DEFAULT_IAM_PATH
    if len(path) > 512 or not IAM_PATH.fullmatch(path):
        raise ConfigurationError(
            f"{IAM_PATH_VARIABLE} must be an IAM path such as / or /tally-managed/"
        )
    return path


def parse_action_settings(env: Mapping[str, str | None], *, region: str) -> ActionSettings:
    """The settings from ``env``; a bad value raises ``ConfigurationError`` naming it."""
    raw = {f.strip().lower() for f in (env.get(ACTIONS_VARIABLE) or "").split(",")} - {""}
    families = set(ACTION_FAMILIES) if raw == {"all"} else raw
    unknown = sorted(families - set(ACTION_FAMILIES))
    if unknown:
        raise ConfigurationError(
            f"{ACTIONS_VARIABLE}: unknown families {unknown}; use {', '.join(ACTION_FAMILIES)}"
        )
    regions = tuple(r.strip() for r in (env.get(REGIONS_VARIABLE) or "").split(",") if r.strip())
    for r in regions:
        if not _REGION.match(r):
            raise ConfigurationError(f"{REGIONS_VARIABLE}: {r!r} is not a region")
    account = (env.get(ACCOUNT_VARIABLE) or "").strip()
    if families and not re.fullmatch(r"\d{12}", account):
        raise ConfigurationError(f"{ACCOUNT_VARIABLE} must be an account id to run actions")
    in_process = (env.get(IN_PROCESS_VARIABLE) or "false").strip().lower()
    if in_process not in ("true", "false"):
        raise ConfigurationError(f"{IN_PROCESS_VARIABLE} must be 'true' or 'false'")
    topic = (env.get(ALARM_TOPIC_VARIABLE) or "").strip() or None
    if "alarms" in families and topic is None:
        raise ConfigurationError(f"the alarms family needs {ALARM_TOPIC_VARIABLE}")
    settings = ActionSettings(
        families=frozenset(families),  # type: ignore[arg-type]
        iam_path=iam_path(env.get(IAM_PATH_VARIABLE)),
        account=account,
        regions=regions or (region,),
        alarm_topic_arn=topic,
        management_function=(env.get(MANAGEMENT_FUNCTION_VARIABLE) or "").strip() or None,
        inventory_function=(env.get(INVENTORY_FUNCTION_VARIABLE) or "").strip() or None,
        in_process=in_process == "true",
    )
    if families and not settings.in_process and not settings.management_function:
        raise ConfigurationError(f"{MANAGEMENT_FUNCTION_VARIABLE} is required to run actions")
    return settings
