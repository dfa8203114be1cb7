"""The access migration function's settings: the shared ones (``tally.settings``) plus the
user pool it reads and the prefix of the Cognito groups that become teams."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from tally.settings import ConfigurationError, Environment, FunctionSettings

USER_POOL_ID = "TALLY_USER_POOL_ID"
TEAM_GROUP_PREFIX = "TALLY_TEAM_GROUP_PREFIX"


@dataclass(frozen=True)
class AccessMigrationSettings(FunctionSettings):
    user_pool_id: str = ""
    # Groups named "<prefix><team id>" become teams; None: no team sync.
    team_group_prefix: str | None = None

    variables: ClassVar[tuple[str, ...]] = (USER_POOL_ID, TEAM_GROUP_PREFIX)

    @classmethod
    def parse(cls, env: Environment) -> dict[str, Any]:
        pool = env[USER_POOL_ID]
        if not pool:
            raise ConfigurationError(f"environment variable {USER_POOL_ID} is required")
        prefix = (env[TEAM_GROUP_PREFIX] or "").strip() or None
        return {"user_pool_id": pool, "team_group_prefix": prefix}
