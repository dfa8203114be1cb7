"""The whole local stack in one call: moto, the resources, the demo organisation, the gateway.

``python -m infra.local`` runs it until interrupted; end-to-end tests can start it in-process
with ``port=0, aws_port=0`` and a ``local_json_path`` of their own.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import socket
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from infra.dashboard_site import SITE_DIR, content_security_policy, runtime_config
from infra.local.alerts import AlertsRouter, load_alerts_handler
from infra.local.aws import (
    DEFAULT_AWS_PORT,
    DEFAULT_PREFIX,
    LocalAws,
    LocalUser,
    MotoServer,
    PortInUse,
    port_in_use_message,
    provision,
    start_moto,
    use_fake_credentials,
)
from infra.local.containers import ContainerPool, containers_setting
from infra.local.gateway import DEFAULT_PORT, PROBLEM_JSON, Handler, LocalGateway, problem
from infra.local.ingest_workers import ingest_worker
from infra.local.outbox import Outbox, collect_outbox
from infra.local.queue_worker import QueueWorker
from infra.local.reports import ReportsWorker, load_reports_handler
from infra.local.s3_links import S3Links
from infra.local.stripe_standin import (
    STANDIN,
    STANDIN_KEYS,
    WEBHOOK_PATH,
    StripeStandIn,
    standin_env,
)
from infra.local.tokens import LIST_CLAIMS_COMMA, CognitoTokenVerifier
from tally.clock import TODAY_VARIABLE, pinned_today, utc_today

log = logging.getLogger("tally.local")

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LOCAL_JSON = REPO_ROOT / ".tally" / "local.json"
# The built site (`make dashboard`); its sources are in templates/dashboard/src.
DEFAULT_DASHBOARD_DIR = SITE_DIR
DEMO_MODULE = "infra.local.demo"
API_HANDLER_MODULE = "api.handler"

Seed = Callable[[dict[str, str]], Sequence[LocalUser | Mapping[str, str]] | None]


def ensure_port_free(port: int, variable: str) -> None:
    """Fail before anything starts if ``port`` is taken (0 means any free port)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Same option as http.server, so a port only in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise PortInUse(port_in_use_message(port, variable)) from error


def _missing_api_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 501,
        "headers": {"Content-Type": PROBLEM_JSON},
        "body": problem(501, f"{API_HANDLER_MODULE} does not exist yet").decode(),
    }


def api_containers() -> ContainerPool | None:
    """The API's warm containers: up to ``TALLY_LOCAL_CONTAINERS`` (4) worker processes, each
    importing ``api.handler`` when it starts (its cold start: it reads its settings then, from
    the environment the stack exported), then serving one request at a time.

    None until the module exists: the API answers 501, so the rest of the stack can still be
    used. An error inside an existing module is logged with its traceback when the containers
    start, and fails each request (502), as Lambda's import error does.
    """
    try:
        found = importlib.util.find_spec(API_HANDLER_MODULE) is not None
    except ModuleNotFoundError as error:
        if error.name not in ("api", API_HANDLER_MODULE):
            raise
        found = False
    if not found:
        log.warning("%s not found: /api answers 501 until it exists", API_HANDLER_MODULE)
        return None
    return ContainerPool(f"{API_HANDLER_MODULE}:lambda_handler", size=containers_setting())


def _outbox(gateway: LocalGateway, alerts: AlertsRouter) -> Outbox:
    return collect_outbox(gateway.webhooks, dead_letters=alerts.dead_letters())


def default_seed() -> Seed | None:
    """``infra.local.demo.seed`` when that module exists."""
    if importlib.util.find_spec(DEMO_MODULE) is None:
        return None
    seed: Seed = importlib.import_module(DEMO_MODULE).seed
    return seed


def _as_local_user(user: LocalUser | Mapping[str, str]) -> LocalUser:
    if isinstance(user, LocalUser):
        return user
    return LocalUser(
        username=user["username"],
        password=user["password"],
        role=user["role"],
        user_id=user["user_id"],
    )


def run_access_migration() -> None:
    """The access migration of a deploy (``functions/access``): explicit roles for every
    user of the pool, the team sync when ``TALLY_TEAM_GROUP_PREFIX`` is set, and the audit
    log's "listed" backfill. Reads the handler environment, already in ``os.environ``."""
    from access.handler import run_migration
    from access.settings import AccessMigrationSettings

    result = run_migration(AccessMigrationSettings.from_env())
    log.info(
        "access migration: %d users, %d profiles set (%d admins), teams %d created %d updated",
        result.users,
        result.profiles_set,
        result.admins_set,
        result.teams_created,
        result.teams_updated,
    )


def _grant_demo_estate_iam(users: Sequence[LocalUser]) -> None:
    """The demo admin may try the estate's IAM actions (issue 15): no built-in role holds
    them, so the demo grants its admin a custom role with them once the migration has run."""
    from infra.local.demo import grant_estate_iam
    from tally.clock import utc_now
    from tally.settings import Settings
    from tally.store.access import dynamodb_store

    admin = next((u for u in users if u.username == "admin"), None)
    if admin is not None:
        grant_estate_iam(dynamodb_store(Settings.from_env()), admin.user_id, now=utc_now())


def with_roles(users: Sequence[LocalUser]) -> list[LocalUser]:
    """``users`` with the roles they hold now (for ``local.json``): direct grants, and
    team-manager for each team they manage."""
    if not users:
        return []
    from tally.settings import Settings
    from tally.store.access import dynamodb_store

    # Read afresh: a test process starts several stacks, each with tables of its own.
    profiles = dynamodb_store(Settings.from_env()).profiles([u.user_id for u in users])
    out = []
    for user in users:
        profile = profiles.get(user.user_id)
        roles: list[tuple[str, str]] = []
        if profile is not None:
            roles += [(g.role_id, g.scope.key) for g in profile.grants or ()]
            roles += [("team-manager", f"team:{t}") for t in sorted(profile.manages)]
        out.append(replace(user, roles=tuple(roles)))
    return out


def build_local_json(
    *,
    gateway_url: str,
    aws: LocalAws,
    users: Sequence[LocalUser],
    today: date,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The contents of ``.tally/local.json``: the contract keys first, then extras.

    ``today`` is the business date the stack started on: the pinned one, or the real one
    (which then moves on at midnight, as the stack does)."""
    base = gateway_url.rstrip("/")
    return {
        # contract (design.md, "Local stack"): never remove or rename these
        "api_url": f"{base}/api",
        "dashboard_url": f"{base}/",
        "aws_endpoint_url": aws.endpoint_url,
        "region": aws.region,
        "user_pool_id": aws.user_pool_id,
        "client_id": aws.client_id,
        "users": [user.as_json() for user in users],
        "today": today.isoformat(),
        # extras
        "outbox_url": f"{base}/outbox",
        "outbox_json_url": f"{base}/outbox.json",
        "jwks_url": aws.jwks_url,
        "tables": dict(aws.table_names),
        "exports_bucket": aws.exports_bucket,
        "sender_email": aws.sender_email,
        "admin_topic_arn": aws.admin_topic_arn,
        "operations_topic_arn": aws.operations_topic_arn,
        "event_bus_name": aws.event_bus_name,
        # what the handlers run with, so another process (make ingest) can run them too
        "env": dict(env if env is not None else aws.handler_env()),
        "pid": os.getpid(),
    }


def dashboard_config(aws: LocalAws) -> dict[str, Any]:
    """The dashboard's ``config.json`` for the local stack.

    The API is same-origin (``/api``), so the page works whether it is opened as 127.0.0.1 or
    localhost; sign-in goes to the moto server, which has no RevokeToken.
    """
    return runtime_config(
        api_url="/api",
        region=aws.region,
        user_pool_id=aws.user_pool_id,
        client_id=aws.client_id,
        cognito_endpoint_url=aws.endpoint_url,
        revoke_token_on_sign_out=False,
    )


def write_local_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write atomically: whoever waits for the file never reads half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", delete=False, encoding="utf-8"
    ) as tmp:
        json.dump(data, tmp, indent=2)
        tmp.write("\n")
    os.replace(tmp.name, path)


def _roles_text(roles: Sequence[Mapping[str, str]]) -> str:
    return ", ".join(f"{r['roleId']}@{r['scope']}" for r in roles)


def sign_in_instructions(local_json: Mapping[str, Any], path: Path | None = None) -> str:
    """How to get an ID token with curl and call the API (printed by ``make run``)."""
    users = local_json["users"]
    pinned = TODAY_VARIABLE in local_json.get("env", {})
    lines = [
        f"Tally is running: dashboard {local_json['dashboard_url']}  API {local_json['api_url']}",
        f"  outbox {local_json.get('outbox_url', '')}  AWS (moto) {local_json['aws_endpoint_url']}",
        f"  a webhook URL for your preferences: {local_json['dashboard_url']}webhooks/<any-name>"
        " (the stack's own receiver; what it takes is on the outbox)",
        f"Today is {local_json['today']}: "
        + (
            f"pinned ({TODAY_VARIABLE}); the daily ingest is off, `make ingest` runs it by hand"
            if pinned
            else "the real date; the ingest runs every day at 00:00 UTC"
        ),
    ]
    standin = local_json.get("env", {}).get("TALLY_STRIPE_API_BASE")
    if standin:
        lines.append(
            f"Payments: on, through Stripe's recorded stand-in at {standin} (no network): an "
            "issued invoice's payment page there pays or voids it (Tally's webhook is told)"
        )
    if users:
        lines.append("Users:")
        lines.extend(
            f"  {u['username']:<10} {u['role']:<6} password {u['password']}  id {u['user_id']}"
            + (f"  roles {_roles_text(u['roles'])}" if u.get("roles") else "")
            for u in users
        )
        user = next((u for u in users if u["role"] == "user"), users[0])
        auth = {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": local_json["client_id"],
            "AuthParameters": {"USERNAME": user["username"], "PASSWORD": user["password"]},
        }
        lines += [
            f"Sign in as {user['username']} (Cognito InitiateAuth) and call the API:",
            f"  TOKEN=$(curl -s {local_json['aws_endpoint_url']}/ \\",
            "    -H 'Content-Type: application/x-amz-json-1.1' \\",
            "    -H 'X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth' \\",
            f"    -d '{json.dumps(auth)}' \\",
            "    | python3 -c 'import json,sys; "
            'print(json.load(sys.stdin)["AuthenticationResult"]["IdToken"])\')',
            f'  curl -s -H "Authorization: Bearer $TOKEN" {local_json["api_url"]}/me',
        ]
    where = path or DEFAULT_LOCAL_JSON
    shown = where.relative_to(REPO_ROOT) if where.is_relative_to(REPO_ROOT) else where
    lines.append(f"Everything is also in {shown}. Ctrl-C stops the stack.")
    return "\n".join(lines)


@dataclass
class LocalStack:
    """A running local stack; ``stop()`` shuts it down and removes its ``local.json``."""

    moto: MotoServer
    aws: LocalAws
    gateway: LocalGateway
    users: list[LocalUser]
    env: dict[str, str]  # what the handlers run with (also in os.environ)
    local_json: dict[str, Any]
    local_json_path: Path | None
    alerts: AlertsRouter | None = None  # None: the alerts function does not exist yet
    reports: ReportsWorker | None = None  # None: the reports function is not routed
    ingest: QueueWorker | None = None  # the ingest fan-out's worker (the batches queue)
    # What ``os.environ`` held before the stack exported ``env`` (None: unset), put back by
    # ``stop`` so a stopped stack's endpoint does not outlive it in the process.
    environ_before: dict[str, str | None] = field(default_factory=dict)
    # Stripe's recorded stand-in (``make run PAYMENTS=standin``); None: payments are off.
    stripe: StripeStandIn | None = None

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every event, fan-out message and report job sent so far is handled."""
        ingest = self.ingest.wait_idle(timeout) if self.ingest is not None else True
        alerts = self.alerts.wait_idle(timeout) if self.alerts is not None else True
        return (
            ingest
            and alerts
            and (self.reports.wait_idle(timeout) if self.reports is not None else True)
        )

    def stop(self) -> None:
        if self.ingest is not None:
            self.ingest.stop()
        if self.reports is not None:
            self.reports.stop()
        if self.alerts is not None:
            self.alerts.stop()
        self.gateway.stop()
        if self.stripe is not None:
            self.stripe.stop()
        self.moto.stop()
        if self.local_json_path is not None:
            self.local_json_path.unlink(missing_ok=True)
        for name, value in self.environ_before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        from tally.settings import get_settings

        get_settings.cache_clear()  # parsed from the stack's environment, now gone


def start_local_stack(
    *,
    port: int = DEFAULT_PORT,
    aws_port: int = DEFAULT_AWS_PORT,
    handler: Handler | None = None,
    seed: Seed | bool | None = True,
    static_dir: Path | bool | None = True,
    local_json_path: Path | None = DEFAULT_LOCAL_JSON,
    prefix: str = DEFAULT_PREFIX,
    list_claims: str = LIST_CLAIMS_COMMA,
    access_log: bool = True,
    today: date | None = None,
    alerts_handler: Handler | bool = True,
    reports_handler: Handler | bool = True,
    payments: str | None = None,
) -> LocalStack:
    """Start moto, create the resources, seed, start the gateway, then write ``local.json``.

    The handler environment is put into ``os.environ`` before ``api.handler`` is imported,
    since the handler reads its settings at cold start. ``handler=None`` runs
    ``api.handler.lambda_handler`` in warm containers (``api_containers``, all started and
    warmed before ``local.json`` is written); a callable is called in this process instead;
    ``seed=True`` runs ``infra.local.demo.seed(env)`` if that module exists (``False``: no
    users); ``static_dir=True`` serves the built dashboard (``templates/dashboard/dist``) when
    present; ``local_json_path=None`` writes no file.
    ``today`` pins the business date (else ``TALLY_TODAY`` does, if set); the handler
    environment carries it, so the API, the demo and ``make ingest`` all run on it.
    ``alerts_handler=True`` routes the alerts function's events (``infra.local.alerts``) to
    ``alerts.handler.lambda_handler`` once it exists; a callable replaces it, False routes none.
    ``reports_handler`` does the same for the reports function's jobs and events
    (``infra.local.reports``); the gateway answers the download links either way.
    ``payments="standin"`` turns payments on through Stripe's recorded stand-in
    (``infra.local.stripe_standin``); None keeps them off, as a deployment without
    ``-c payments=stripe``.
    """
    if payments not in (None, STANDIN):
        raise ValueError(f"payments must be None or {STANDIN!r}, not {payments!r}")
    pinned = today or pinned_today()
    ensure_port_free(port, "TALLY_PORT")
    ensure_port_free(aws_port, "TALLY_AWS_PORT")
    if local_json_path is not None:
        # A file left by a stack that died would point clients at dead ports.
        local_json_path.unlink(missing_ok=True)

    use_fake_credentials()
    moto = start_moto(aws_port)
    gateway: LocalGateway | None = None
    alerts: AlertsRouter | None = None
    reports: ReportsWorker | None = None
    ingest: QueueWorker | None = None
    stripe: StripeStandIn | None = None
    try:
        aws = provision(moto.endpoint_url, prefix=prefix)
        if static_dir is True:
            static_dir = DEFAULT_DASHBOARD_DIR if DEFAULT_DASHBOARD_DIR.is_dir() else None
            if static_dir is None:
                log.warning("the dashboard is not built: `make dashboard` builds it")
        # Bound now, served later: its URL is the dashboard origin the handler is told about.
        gateway = LocalGateway(
            handler=_missing_api_handler,
            verifier=CognitoTokenVerifier(
                jwks_url=aws.jwks_url, user_pool_id=aws.user_pool_id, client_id=aws.client_id
            ),
            static_dir=static_dir or None,
            port=port,
            list_claims=list_claims,
            access_log=access_log,
            site_config=dashboard_config(aws),
            # The browser signs in at moto directly, as it signs in at Cognito in AWS.
            content_security_policy=content_security_policy([aws.endpoint_url]),
        )
        env = {**aws.handler_env(gateway.url), "TALLY_DASHBOARD_ORIGIN": gateway.url}
        if payments == STANDIN:
            webhook = f"{gateway.url}{WEBHOOK_PATH}"
            stripe = StripeStandIn(
                webhook_url=lambda: webhook, secret=STANDIN_KEYS["webhookSecret"]
            ).start()
            env.update(standin_env(stripe))
        if pinned is not None:
            env[TODAY_VARIABLE] = pinned.isoformat()
        environ_before = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        warming = None
        if handler is None:
            # Started now, with the handler's environment, and warmed while the demo is
            # seeded: a stack that says it is ready answers its first requests warm.
            gateway.containers = api_containers()
            warming = gateway.containers.warm_up() if gateway.containers else None

        seed_fn = default_seed() if seed is True else (seed or None)
        users = [_as_local_user(u) for u in (seed_fn(dict(env)) or [])] if seed_fn else []
        if seed_fn is not None:
            # The estate cache, filled once as the hourly schedule would (moto never fires
            # it): the demo's estate, or whatever a test's seed made (issue 15).
            from infra.local.estate import refresh_estate

            refresh_estate()
        # As a deploy runs it (a CloudFormation trigger): once the users exist.
        run_access_migration()
        if seed is True:
            _grant_demo_estate_iam(users)
        users = with_roles(users)

        if handler is not None:
            gateway.handler = handler  # called in this process, one request at a time
        route_to = load_alerts_handler() if alerts_handler is True else alerts_handler or None
        if route_to is not None:
            # After the seed: an event its ingest announced waits in the queue until now.
            alerts = AlertsRouter(aws, route_to).start()
            gateway.wait_idle = alerts.wait_idle
            gateway.outbox = partial(_outbox, gateway, alerts)
        reports_to = load_reports_handler() if reports_handler is True else reports_handler or None
        if reports_to is not None:
            reports = ReportsWorker(aws, reports_to).start()
        # The daily schedule's ingest fans out over this queue: its batches are done here.
        ingest = ingest_worker(aws.client("sqs"), aws.ingest_queue_url, region=aws.region).start()
        gateway.s3_links = S3Links(aws.client("s3"), aws.exports_bucket)
        gateway.start()
        if warming is not None:
            warming.join()
        local_json = build_local_json(
            gateway_url=gateway.url, aws=aws, users=users, today=utc_today(), env=env
        )
        if local_json_path is not None:
            write_local_json(local_json_path, local_json)
    except BaseException:
        if ingest is not None:
            ingest.stop()
        if reports is not None:
            reports.stop()
        if alerts is not None:
            alerts.stop()
        if gateway is not None:
            gateway.stop()
        if stripe is not None:
            stripe.stop()
        moto.stop()
        raise
    return LocalStack(
        moto,
        aws,
        gateway,
        users,
        env,
        local_json,
        local_json_path,
        alerts,
        reports,
        ingest,
        environ_before,
        stripe,
    )
