"""The access migration function's settings: the pool it reads is required, the team group
prefix is optional (no prefix: no team sync)."""

from __future__ import annotations

import pytest
from access.settings import TEAM_GROUP_PREFIX, USER_POOL_ID, AccessMigrationSettings

from tally.settings import ConfigurationError


def own(**values: str) -> dict[str, str | None]:
    return {name: values.get(name) for name in AccessMigrationSettings.variables}


def test_the_pool_is_required_by_name() -> None:
    with pytest.raises(ConfigurationError, match=USER_POOL_ID):
        AccessMigrationSettings.parse(own())


@pytest.mark.parametrize(
    ("raw", "prefix"), [(None, None), ("", None), ("  ", None), ("team-", "team-")]
)
def test_the_team_group_prefix_is_optional(raw: str | None, prefix: str | None) -> None:
    values = {USER_POOL_ID: "us-east-1_pool"}
    if raw is not None:
        values[TEAM_GROUP_PREFIX] = raw
    parsed = AccessMigrationSettings.parse(own(**values))
    assert parsed == {"user_pool_id": "us-east-1_pool", "team_group_prefix": prefix}
