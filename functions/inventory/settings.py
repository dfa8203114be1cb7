"""The inventory function's settings: the shared ones (``tally.settings``) plus which account
and regions it reads and, for another account, the read-only role it assumes.

- ``TALLY_ESTATE_ACCOUNT`` (required): the account the cache keys name (CDK: the stack's).
- ``TALLY_ESTATE_REGIONS``: comma-separated regions to read; default the function's region.
- ``TALLY_ESTATE_ROLE_ARN``: a role to assume before reading (another account's read-only role,
  ``infra/estate_read_role.py``: the same actions as the inventory's own role). Its account
  must be ``TALLY_ESTATE_ACCOUNT``, or the cache would file one account's estate under another.
  Unset: the function's own role reads its own account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from tally.settings import ConfigurationError, Environment, FunctionSettings

ESTATE_ACCOUNT = "TALLY_ESTATE_ACCOUNT"
ESTATE_REGIONS = "TALLY_ESTATE_REGIONS"
ESTATE_ROLE_ARN = "TALLY_ESTATE_ROLE_ARN"
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ROLE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/.+$")


@dataclass(frozen=True)
class InventorySettings(FunctionSettings):
    estate_account: str = ""
    # Empty: the function's own region (``estate_regions`` resolves it).
    regions: tuple[str, ...] = ()
    role_arn: str | None = None

    variables: ClassVar[tuple[str, ...]] = (ESTATE_ACCOUNT, ESTATE_REGIONS, ESTATE_ROLE_ARN)

    @classmethod
    def parse(cls, env: Environment) -> dict[str, Any]:
        account = (env[ESTATE_ACCOUNT] or "").strip()
        if not re.fullmatch(r"\d{12}", account):
            raise ConfigurationError(f"environment variable {ESTATE_ACCOUNT} must be an account id")
        regions = tuple(r.strip() for r in (env[ESTATE_REGIONS] or "").split(",") if r.strip())
        for region in regions:
            if not _REGION.match(region):
                raise ConfigurationError(f"{ESTATE_REGIONS}: {region!r} is not a region")
        role = (env[ESTATE_ROLE_ARN] or "").strip() or None
        if role is not None:
            match = _ROLE.match(role)
            if match is None:
                raise ConfigurationError(f"{ESTATE_ROLE_ARN} must be an IAM role ARN")
            if match.group(1) != account:
                raise ConfigurationError(
                    f"{ESTATE_ROLE_ARN} is a role of account {match.group(1)}, but "
                    f"{ESTATE_ACCOUNT} is {account}: the cache must name the account it reads"
                )
        return {"estate_account": account, "regions": regions, "role_arn": role}

    @property
    def estate_regions(self) -> tuple[str, ...]:
        return self.regions or (self.region,)
