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
from tally.ratelimit import RateLimit
from tally.settings import ConfigurationError, Environment, FunctionSettings

APP_CLIENT_IDS = "TALLY_APP_CLIENT_IDS"
USER_POOL_ID = "TALLY_USER_POOL_ID"
DASHBOARD_ORIGIN = "TALLY_DASHBOARD_ORIGIN"
WEBHOOK_KEY_ID = "TALLY_WEBHOOK_KEY_ID"
WEBHOOK_ALLOW_LOOPBACK = "TALLY_WEBHOOK_ALLOW_LOOPBACK"
UNSUBSCRIBE_SECRET_ID = "TALLY_UNSUBSCRIBE_SECRET_ID"  # noqa: S105 - a variable name
REPORTS_PER_HOUR = "TALLY_REPORTS_PER_HOUR"
REPORTS_BURST = "TALLY_REPORTS_BURST"
# Each user's exports and invoices together (each makes a file in the reports function): a
# burst of 5, then 10 an hour. docs/deploy.md says how to change them.
DEFAULT_REPORTS_PER_HOUR = 10
DEFAULT_REPORTS_BURST = 5


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
    # The KMS key that seals webhook URLs (id or ARN). Only the webhook routes need it: they
    # fail loudly without it (api.channels), the rest of the API does not.
    webhook_key_id: str | None = None
    # The local stack's own webhook receiver is on 127.0.0.1; never set in AWS.
    webhook_allow_loopback: bool = False
    # The Secrets Manager secret of the unsubscribe links' HMAC keys ({"current": ...}), the
    # one the alerts function signs with. Only the unsubscribe routes need it.
    unsubscribe_secret_id: str | None = None
    # The per-user limit of the routes that make files (tally.ratelimit, bucket "reports").
    reports_per_hour: int = DEFAULT_REPORTS_PER_HOUR
    reports_burst: int = DEFAULT_REPORTS_BURST

    variables: ClassVar[tuple[str, ...]] = (
        APP_CLIENT_IDS,
        USER_POOL_ID,
        REQUIRE_ADMIN_MFA,
        DASHBOARD_ORIGIN,
        WEBHOOK_KEY_ID,
        WEBHOOK_ALLOW_LOOPBACK,
        UNSUBSCRIBE_SECRET_ID,
        REPORTS_PER_HOUR,
        REPORTS_BURST,
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
        loopback = (env[WEBHOOK_ALLOW_LOOPBACK] or "false").strip().lower()
        if loopback not in ("true", "false"):
            raise ConfigurationError(f"{WEBHOOK_ALLOW_LOOPBACK} must be 'true' or 'false'")
        return {
            "app_client_ids": ids,
            "user_pool_id": pool,
            "require_admin_mfa": require_mfa,
            "dashboard_origin": dashboard_origin(env),
            "webhook_key_id": env[WEBHOOK_KEY_ID] or None,
            "webhook_allow_loopback": loopback == "true",
            "unsubscribe_secret_id": env[UNSUBSCRIBE_SECRET_ID] or None,
            "reports_per_hour": _count(env, REPORTS_PER_HOUR, DEFAULT_REPORTS_PER_HOUR),
            "reports_burst": _count(env, REPORTS_BURST, DEFAULT_REPORTS_BURST),
        }

    @property
    def reports_limit(self) -> RateLimit:
        return RateLimit("reports", per_hour=self.reports_per_hour, burst=self.reports_burst)


def _count(env: Environment, name: str, default: int) -> int:
    raw = (env[name] or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigurationError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def dashboard_origin(env: Environment) -> str | None:
    """The CORS origin. ``api.handler`` reads it alone, at import: the resolver's CORS
    configuration is built then, before a request could load the rest (and tests import the
    API without the tables' settings)."""
    return env.get(DASHBOARD_ORIGIN) or None
