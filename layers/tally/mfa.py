"""Two-step sign-in (TOTP) for administrators.

Cognito can make MFA optional or required for a whole pool, not for one group. So the pool
offers TOTP to everyone (optional), and the API, the only place admin rights mean anything,
treats a member of the admins group as an ordinary user until their account has TOTP turned
on (``TALLY_REQUIRE_ADMIN_MFA``). The answer comes from the pool itself (``AdminGetUser``'s
``UserMFASettingList``), not from the token, which says nothing about MFA.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Protocol

from tally.identity import Caller
from tally.membership import BriefYes
from tally.tables import ADMIN_GROUP

REQUIRE_ADMIN_MFA_VARIABLE = "TALLY_REQUIRE_ADMIN_MFA"
TOTP = "SOFTWARE_TOKEN_MFA"
# A yes is kept this long per warm container: turning TOTP off takes effect within it.
# A no is never kept, so an admin who has just turned TOTP on is an admin on the next request.
CONFIRMED_FOR_SECONDS = 300.0


class MfaDirectory(Protocol):
    def has_totp(self, username: str) -> bool: ...


def admin_mfa_required(env: Mapping[str, str | None]) -> bool:
    """The setting, off unless the deployment says ``true`` (CDK sets it from
    ``requireAdminMfa``); anything but true or false is a configuration error. The API reads
    it through its settings (``api.settings.ApiSettings``)."""
    raw = env.get(REQUIRE_ADMIN_MFA_VARIABLE)
    if raw is None:
        raw = "false"
    value = raw.strip().lower()
    if value not in ("true", "false"):
        raise ValueError(f"{REQUIRE_ADMIN_MFA_VARIABLE} must be 'true' or 'false', not {raw!r}")
    return value == "true"


class CognitoMfaDirectory:
    """Whether a pool user has TOTP turned on: one ``AdminGetUser`` call, a yes cached briefly."""

    def __init__(
        self,
        client: Any,
        user_pool_id: str,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        confirmed_for: float = CONFIRMED_FOR_SECONDS,
    ) -> None:
        self._client = client
        self._pool = user_pool_id
        self._yes = BriefYes(monotonic, confirmed_for)

    def has_totp(self, username: str) -> bool:
        return self._yes.ask(username, lambda: self._totp_on(username))

    def _totp_on(self, username: str) -> bool:
        user = self._client.admin_get_user(UserPoolId=self._pool, Username=username)
        return TOTP in (user.get("UserMFASettingList") or [])


def enforce_admin_mfa(caller: Caller, directory: MfaDirectory | None) -> Caller:
    """The caller as the API should treat them: an admin without TOTP loses the admins group
    (and is marked, so refusals and ``/api/me`` can say why). ``directory=None``: not required."""
    if directory is None or not caller.is_admin or directory.has_totp(caller.username):
        return caller
    return replace(caller, groups=caller.groups - {ADMIN_GROUP}, admin_needs_mfa=True)
