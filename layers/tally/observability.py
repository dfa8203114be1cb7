"""How every function observes itself: metrics (CloudWatch EMF through Powertools), tracing
(X-Ray through Powertools' Tracer, when the function runs with the X-Ray SDK) and error
tracking (Sentry, only when a DSN is configured).

What each costs decided its shape:
- ``metrics``: Powertools imports its metrics classes with its Logger, so they cost nothing
  at cold start. Every function has one, of its own: Powertools' ``Metrics`` objects share one
  buffer per process, which mixed the functions' metrics where several run in one process
  (the local stack, the tests); ``EphemeralMetrics`` keeps each function's apart.
- ``tracer``: Powertools' Tracer imports the X-Ray SDK and patches botocore when it is built
  (100-200 ms of a cold start, about as much as importing boto3). A function whose environment
  says ``POWERTOOLS_TRACE_DISABLED=true`` (the API: its cold start is a user's wait), or that
  runs outside Lambda (tests, the local stack), gets ``NoTracer``: the same decorators, doing
  nothing. Lambda's active tracing still records every function's segment without the SDK.
- ``start_error_tracking``: Sentry is imported, and its DSN read from Secrets Manager, only when
  ``TALLY_SENTRY_DSN_SECRET`` names the secret; without it nothing of Sentry is loaded. The
  secret is read once per container, at its start, because Sentry's Lambda integration wraps
  the runtime's handler only if it is set up before the first event.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer
    from aws_lambda_powertools.metrics import EphemeralMetrics
    from sentry_sdk.types import Breadcrumb, BreadcrumbHint, Event, Hint

NAMESPACE_ENV = "POWERTOOLS_METRICS_NAMESPACE"
DEFAULT_NAMESPACE = "Tally"
TRACE_DISABLED_ENV = "POWERTOOLS_TRACE_DISABLED"
SENTRY_DSN_SECRET_ENV = "TALLY_SENTRY_DSN_SECRET"  # noqa: S105 - the variable naming the secret
SENTRY_ENVIRONMENT_ENV = "TALLY_SENTRY_ENVIRONMENT"
VERSION_ENV = "TALLY_VERSION"
_TRUE = frozenset({"1", "true", "yes", "on"})

_log = logging.getLogger(__name__)


def metrics(service: str, env: Mapping[str, str] = os.environ) -> EphemeralMetrics:
    """The function's metrics, in the stack's namespace (``Tally`` in tests and locally)."""
    from aws_lambda_powertools.metrics import EphemeralMetrics

    return EphemeralMetrics(namespace=env.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE, service=service)


def tracing_enabled(env: Mapping[str, str] = os.environ) -> bool:
    """In Lambda, unless the function's environment turns the X-Ray SDK off."""
    in_lambda = bool(env.get("AWS_LAMBDA_FUNCTION_NAME"))
    return in_lambda and env.get(TRACE_DISABLED_ENV, "").strip().lower() not in _TRUE


class NoTracer:
    """Powertools Tracer's decorators and annotations, doing nothing: a function without the
    X-Ray SDK keeps its code the same."""

    def capture_lambda_handler(self, handler: Any = None, **_: Any) -> Any:
        return handler if handler is not None else (lambda function: function)

    def capture_method(self, method: Any = None, **_: Any) -> Any:
        return method if method is not None else (lambda function: function)

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        pass


def tracer(service: str, env: Mapping[str, str] = os.environ) -> Tracer | NoTracer:
    """Powertools' Tracer when ``tracing_enabled``; otherwise ``NoTracer`` (no X-Ray SDK import)."""
    if not tracing_enabled(env):
        return NoTracer()
    from aws_lambda_powertools import Tracer

    return Tracer(service=service)


# -- error tracking ---------------------------------------------------------------------------

FILTERED = "[Filtered]"
# Keys whose values never leave: credentials and addresses, and money (a user's figures are
# theirs; an error report needs the code path, not the amount).
_SECRET_KEYS = re.compile(
    r"authori[sz]ation|cookie|token|secret|password|passwd|dsn|api[-_]?key|signature|"
    r"credential|e-?mail|x-amz-security|remote_addr|ip_address|source_?ip",
    re.IGNORECASE,
)
_MONEY_KEYS = re.compile(
    r"amount|cost|limit|total|spend|budget|forecast|billed|effective|price|charge|balance",
    re.IGNORECASE,
)
# Whole sections left out, by the key of the mapping holding them ("": the event itself): the
# user, and the request's body (figures, addresses) and cookies.
_DROPPED = {"": frozenset({"user"}), "request": frozenset({"data", "cookies"})}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*")
_BEARER = re.compile(r"\bBearer\s+\S+", re.IGNORECASE)
# A decimal amount standing alone ("12.50", "Decimal('67941.200509')"), not a version "3.37.0".
_AMOUNT = re.compile(r"(?<![\w.])-?\d+\.\d+(?![\w.])")


def scrub_text(text: str) -> str:
    """``text`` without email addresses, tokens or decimal amounts."""
    text = _JWT.sub(FILTERED, text)
    text = _BEARER.sub(FILTERED, text)
    text = _EMAIL.sub(FILTERED, text)
    return _AMOUNT.sub(FILTERED, text)


def scrub(value: Any, key: str = "") -> Any:
    """A Sentry event (or any part of it) with personal data and money taken out: values under
    credential, address and money keys, whole request bodies, cookies and the user, and every
    address, token or amount inside the remaining text."""
    if key and (_SECRET_KEYS.search(key) or _MONEY_KEYS.search(key)):
        return FILTERED
    if isinstance(value, Mapping):
        dropped = _DROPPED.get(key, frozenset())
        return {k: scrub(v, str(k)) for k, v in value.items() if k not in dropped}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Decimal):
        return FILTERED
    return value


def before_send(event: Event, _hint: Hint) -> Event:
    """Sentry's ``before_send``: every event is scrubbed before it leaves the function."""
    scrubbed: Event = scrub(event)
    return scrubbed


def before_breadcrumb(crumb: Breadcrumb, _hint: BreadcrumbHint) -> Breadcrumb:
    scrubbed: Breadcrumb = scrub(crumb)
    return scrubbed


def dsn_from_secret(value: str) -> str:
    """A secret holds the DSN as it is, or as ``{"dsn": "..."}``; blank means off."""
    import json

    text = value.strip()
    if text.startswith("{"):
        text = str(json.loads(text).get("dsn") or "").strip()
    return text


def _read_secret(name: str) -> str:
    import boto3

    client = boto3.client("secretsmanager", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))
    return str(client.get_secret_value(SecretId=name)["SecretString"])


# Whether this container has decided on Sentry (None: not yet): the secret is read once.
_error_tracking: bool | None = None


def start_error_tracking(
    service: str,
    env: Mapping[str, str] | None = None,
    read_secret: Callable[[str], str] | None = None,
) -> bool:
    """Sentry for this container when ``TALLY_SENTRY_DSN_SECRET`` names a secret with a DSN;
    True when it is on. Call at module level: Sentry's Lambda integration must be set up
    before the first event. The first call decides for the container (a second handler module
    imported in it reads nothing again). A secret that cannot be read is logged and leaves
    Sentry off: error tracking never stops the function. Without the setting nothing of
    Sentry or boto3 is imported."""
    global _error_tracking
    if _error_tracking is None:
        _error_tracking = _start_sentry(service, os.environ if env is None else env, read_secret)
    return _error_tracking


def _start_sentry(
    service: str, env: Mapping[str, str], read_secret: Callable[[str], str] | None
) -> bool:
    secret = (env.get(SENTRY_DSN_SECRET_ENV) or "").strip()
    if not secret:
        return False
    try:
        dsn = dsn_from_secret((read_secret or _read_secret)(secret))
    except Exception:
        _log.warning("Sentry stays off: its DSN secret could not be read", exc_info=True)
        return False
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.aws_lambda import AwsLambdaIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[AwsLambdaIntegration(timeout_warning=True)],
        send_default_pii=False,
        before_send=before_send,
        before_send_transaction=before_send,
        before_breadcrumb=before_breadcrumb,
        # X-Ray traces requests; Sentry is for errors only.
        traces_sample_rate=0.0,
        release=env.get(VERSION_ENV) or None,
        environment=env.get(SENTRY_ENVIRONMENT_ENV) or "production",
        server_name=service,
    )
    return True
