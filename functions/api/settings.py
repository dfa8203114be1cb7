"""The API function's settings: the shared ones (``tally.settings``) plus who may call it.

Read through ``ApiSettings.load()``: parsed on the first request of a container and kept
(``tally.settings.FunctionSettings``). A missing or bad value fails every request with a
``ConfigurationError`` naming the variable (a 500, loud in the logs), never a silent default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

# tally.mfa is small, and every first request imports it anyway.
from tally.mfa import REQUIRE_ADMIN_MFA_VARIABLE as REQUIRE_ADMIN_MFA
from tally.mfa import admin_mfa_required
from tally.settings import ConfigurationError, Environment, FunctionSettings

APP_CLIENT_IDS = "TALLY_APP_CLIENT_IDS"
USER_POOL_ID = "TALLY_USER_POOL_ID"
DASHBOARD_ORIGIN = "TALLY_DASHBOARD_ORIGIN"


@dataclass(frozen=True)
class ApiSettings(FunctionSettings):
    # The app clients whose ID tokens the API accepts: API Gateway's Cognito authorizer
    # accepts a token of any client of the pool, so the client is bound here. Required.
    app_client_ids: frozenset[str] = frozenset()
    # The pool that confirms admins and checks that users exist; None in tests that build
    # requests by hand (no confirmation, no directory).
    user_pool_id: str | None = None
    # Admins must have TOTP on before their admin rights count (tally.mfa); needs the pool.
    require_admin_mfa: bool = False
    # The dashboard's origin, the only one CORS lets in; None: no CORS headers.
    dashboard_origin: str | None = None

    variables: ClassVar[tuple[str, ...]] = (
        APP_CLIENT_IDS,
        USER_POOL_ID,
        REQUIRE_ADMIN_MFA,
        DASHBOARD_ORIGIN,
    )

    @classmethod
    def parse(cls, env: Environment) -> dict[str, Any]:
        ids = frozenset(i.strip() for i in (env[APP_CLIENT_IDS] or "").split(",")) - {""}
        if not ids:
            raise ConfigurationError(f"environment variable {APP_CLIENT_IDS} is required")
        try:
            require_mfa = admin_mfa_required(env)
        except ValueError as error:
            raise ConfigurationError(str(error)) from None
        pool = env[USER_POOL_ID] or None
        if require_mfa and not pool:
            raise ConfigurationError(f"{REQUIRE_ADMIN_MFA} needs {USER_POOL_ID}")
        return {
            "app_client_ids": ids,
            "user_pool_id": pool,
            "require_admin_mfa": require_mfa,
            "dashboard_origin": dashboard_origin(env),
        }


def dashboard_origin(env: Environment) -> str | None:
    """The CORS origin. ``api.handler`` reads it alone, at import: the resolver's CORS
    configuration is built then, before a request could load the rest (and tests import the
    API without the tables' settings)."""
    return env.get(DASHBOARD_ORIGIN) or None
