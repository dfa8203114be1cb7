"""A small stand-in for API Gateway (REST API, Cognito authorizer, Lambda proxy) plus static files.

``/api/*``: the Authorization header's Cognito ID token is verified, the request becomes a REST
proxy event for the resource ``/api/{proxy+}`` with the claims under
``requestContext.authorizer.claims``, and the same handler Lambda runs is called with it: in
one of a few worker processes that each serve one request at a time, like warm Lambda
containers (``infra.local.containers``; ``TALLY_LOCAL_CONTAINERS``, 4 by default), and whose
name the reply carries in the local-only ``X-Tally-Local-Container`` header.
``/api/unsubscribe`` (GET, POST) and ``/api/health`` (GET) are public, as in AWS: no token is
asked for, and the event carries no authorizer (the link's signed token authorises the first,
in the function; the second tells nothing); so is Stripe's webhook
(``/api/payments/stripe/webhook``, POST) when payments are on (``TALLY_PAYMENTS``): its
signature authorises it.
``/s3/<bucket>/<key>`` answers pre-signed download links (``infra.local.s3_links``: expiry and
signature checked, as S3 does and moto does not).
``/outbox`` lists the emails sent through SES, the SNS messages and the webhook deliveries
(``/outbox.json`` the same as JSON); ``POST /webhooks/<name>`` is a webhook receiver that
records what it takes; ``/config.json`` is the dashboard's runtime
configuration (what CDK deploys beside the site in AWS); any other path is a file of the
dashboard, served with the dashboard's Content-Security-Policy.
Gateway-made errors are problem+json, and no exception reaches the client as a stack trace.
"""

from __future__ import annotations

import base64
import binascii
import errno
import ipaddress
import json
import logging
import mimetypes
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from infra.dashboard_site import ASSETS_CACHE_CONTROL, ASSETS_DIR
from infra.local.aws import PortInUse, port_in_use_message
from infra.local.containers import (
    LOCAL_ACCOUNT_ID,
    ContainerCrashed,
    ContainerPool,
    ContainerTimedOut,
    InvocationFailed,
    LocalLambdaContext,
)
from infra.local.outbox import (
    Outbox,
    WebhookDelivery,
    WebhookInbox,
    collect_outbox,
    render_outbox,
)
from infra.local.s3_links import PREFIX as S3_PREFIX
from infra.local.s3_links import S3Links
from infra.local.tokens import (
    LIST_CLAIMS_COMMA,
    CognitoTokenVerifier,
    InvalidToken,
    KeySetUnavailable,
    bearer_token,
    render_claims,
)
from tally.clock import system_now

log = logging.getLogger("tally.local.gateway")

DEFAULT_PORT = 8080
API_PREFIX = "/api"
PROXY_RESOURCE = "/api/{proxy+}"
# The resources without the authorizer (infra/constructs/api.py), with their methods.
PUBLIC_RESOURCES = {
    "/api/unsubscribe": frozenset({"GET", "POST"}),
    "/api/health": frozenset({"GET"}),
}
# Stripe's webhook exists only when payments are on (infra/constructs/payments.py), as here:
# TALLY_PAYMENTS=stripe in the local stack's environment (docs/deploy.md, "Payments").
PAYMENTS_WEBHOOK = "/api/payments/stripe/webhook"


def public_methods(path: str) -> frozenset[str] | None:
    """The methods of ``path`` without the authorizer; None: it is behind the authorizer."""
    if path == PAYMENTS_WEBHOOK and os.environ.get("TALLY_PAYMENTS"):
        return frozenset({"POST"})
    return PUBLIC_RESOURCES.get(path)


MAX_BODY_BYTES = 1024 * 1024
# API Gateway's REST API quotas: a URL of at most 8,192 characters, and 10,240 bytes of
# request line and header values together. Beyond them it answers 414 and 431 itself.
MAX_URL_CHARS = 8192
MAX_HEADER_BYTES = 10240
PROBLEM_JSON = "application/problem+json"
# The preflight answer of the CDK API (infra/constructs/api.py, defaultCorsPreflightOptions).
CORS_ALLOW_HEADERS = "Authorization,Content-Type,If-Match,If-None-Match"
CORS_ALLOW_METHODS = "GET,POST,PUT,PATCH,DELETE,OPTIONS"
CORS_MAX_AGE_SECONDS = 3600
# Names the container that answered an API request (local only); IN_PROCESS when the handler
# is a callable run in the gateway's own process, one request at a time.
CONTAINER_HEADER = "X-Tally-Local-Container"
IN_PROCESS = "in-process"
# Computed by the gateway from what it actually writes; a handler's value would be wrong.
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}

Handler = Callable[[dict[str, Any], Any], Any]
OutboxSource = Callable[[], Outbox]
# Waits up to the given seconds for the alerts to settle; True once they have.
WaitIdle = Callable[[float], bool]

WEBHOOKS_PREFIX = "/webhooks/"
MAX_WAIT_SECONDS = 60.0

CONFIG_PATH = "/config.json"
PLACEHOLDER_PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Tally (local)</title>"
    "</head><body style='font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto'>"
    "<h1>Tally, running locally</h1><p>The dashboard is not built: <code>make dashboard</code> "
    "builds it (<code>make run</code> does so itself). The API is at "
    "<code>/api</code> (sign in through Cognito first, see <code>.tally/local.json</code>); "
    "sent emails are in the <a href='/outbox'>outbox</a>.</p></body></html>"
)


def problem(status: int, detail: str) -> bytes:
    """An RFC 9457 body, the same one the deployed API Gateway's gateway responses send.

    Those are built from ``api.problems`` (type URI, title); while that module does not exist
    the type is ``about:blank``.
    """
    try:
        from api.problems import problem as api_problem
    except ModuleNotFoundError as error:
        if error.name not in ("api", "api.problems"):
            raise
    else:
        body = api_problem(status, detail).body
        if isinstance(body, str):
            return body.encode()
    fallback = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    return json.dumps(fallback).encode()


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    headers: list[tuple[str, str]]


class _BadProxyResponse(Exception):
    pass


class LocalGateway:
    """The local API Gateway. ``port=0`` picks a free port (see ``.port`` / ``.url``).

    The port is bound on construction and served from ``start()``; ``handler``,
    ``containers`` and ``cors_origin`` may be replaced in between. The API runs as Lambda runs
    it, ``handler(event, context)`` with one event at a time per container (Powertools'
    resolver keeps the current event on the module's app object): with ``containers`` (a
    ``ContainerPool``, what the stack uses) in up to N worker processes at once, like N warm
    Lambda containers; without, ``handler`` is called in this process, one request at a time
    (a single container: tests hand in fakes that record what they were given).
    ``cors_origin`` defaults to the gateway's own origin, which serves the dashboard locally
    (the deployed API allows the dashboard's origin). ``site_config`` is served as
    ``/config.json`` and ``content_security_policy`` is sent with the dashboard's files; both
    may be set after construction (the stack knows them once the resources exist).
    """

    def __init__(
        self,
        *,
        handler: Handler,
        verifier: CognitoTokenVerifier,
        static_dir: Path | str | None = None,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        stage: str = "local",
        max_body_bytes: int = MAX_BODY_BYTES,
        list_claims: str = LIST_CLAIMS_COMMA,
        outbox: OutboxSource | None = None,
        webhooks: WebhookInbox | None = None,
        wait_idle: WaitIdle | None = None,
        cors_origin: str | None = None,
        access_log: bool = True,
        site_config: Mapping[str, Any] | None = None,
        content_security_policy: str | None = None,
        containers: ContainerPool | None = None,
    ) -> None:
        self.handler = handler
        self.containers = containers
        self.verifier = verifier
        self.static_dir = Path(static_dir).resolve() if static_dir is not None else None
        self.stage = stage
        self.max_body_bytes = max_body_bytes
        self.list_claims = list_claims
        self.webhooks = webhooks if webhooks is not None else WebhookInbox()
        self.outbox = outbox or (lambda: collect_outbox(self.webhooks))
        self.wait_idle = wait_idle
        self.access_log = access_log
        self.site_config = site_config
        self.content_security_policy = content_security_policy
        # Pre-signed download links of the reports bucket (GET /s3/...); set by the stack.
        self.s3_links: S3Links | None = None
        if not ipaddress.ip_address(host).is_loopback:
            # moto signs every pool's tokens with a key shipped in its package: anyone who
            # reaches this gateway could forge an admin's token.
            raise ValueError(f"the local gateway listens on a loopback address only, not {host}")
        self._host = host
        self._invoke_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        try:
            self._server = _Server((host, port), _RequestHandler)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(port_in_use_message(port, "TALLY_PORT")) from error
            raise
        self._server.gateway = self
        self.cors_origin = cors_origin or self.url

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self) -> LocalGateway:
        """Serve in a background thread (once; starting a running gateway does nothing)."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits up to one interval
            name="local-gateway",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        if self.containers is not None:
            self.containers.close()

    def __enter__(self) -> LocalGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- requests ---------------------------------------------------------------------------

    def cors_headers(self) -> list[tuple[str, str]]:
        return [("Access-Control-Allow-Origin", self.cors_origin), ("Vary", "Origin")]

    def problem_reply(self, status: int, detail: str) -> _Reply:
        headers = [("Content-Type", PROBLEM_JSON), *self.cors_headers()]
        if status == HTTPStatus.UNAUTHORIZED:
            headers.append(("x-amzn-ErrorType", "UnauthorizedException"))
        return _Reply(status, problem(status, detail), headers)

    def preflight_reply(self) -> _Reply:
        return _Reply(
            HTTPStatus.NO_CONTENT,
            b"",
            [
                *self.cors_headers(),
                ("Access-Control-Allow-Methods", CORS_ALLOW_METHODS),
                ("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS),
                ("Access-Control-Max-Age", str(CORS_MAX_AGE_SECONDS)),
            ],
        )

    def authorize(self, authorization: str | None) -> dict[str, Any] | _Reply:
        token = bearer_token(authorization)
        if token is None:
            return self.problem_reply(401, "the Authorization header is missing")
        try:
            return self.verifier.verify(token)
        except InvalidToken as error:
            return self.problem_reply(401, str(error))
        except KeySetUnavailable as error:
            log.exception("the user pool's key set is out of reach")
            return self.problem_reply(500, str(error))

    def build_event(
        self,
        *,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        claims: Mapping[str, Any] | None,
        source_ip: str,
        protocol: str,
    ) -> dict[str, Any]:
        """A REST API Lambda proxy event for ``/api/{proxy+}``, as API Gateway builds one; for
        a public resource (``claims`` None) the event of that resource, with no authorizer."""
        split = urlsplit(target)
        path = unquote(split.path)
        resource = path if claims is None else PROXY_RESOURCE
        single_headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            single_headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        forwarded = {
            "X-Forwarded-For": source_ip,
            "X-Forwarded-Proto": "http",
            "X-Forwarded-Port": str(self.port),
        }
        for name, value in forwarded.items():
            single_headers.setdefault(name, value)
            multi_headers.setdefault(name, [value])
        query: dict[str, str] = {}
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(split.query, keep_blank_values=True):
            query[name] = value
            multi_query.setdefault(name, []).append(value)
        request_id = str(uuid.uuid4())
        now = system_now()  # when the request arrived (real time, like API Gateway's stamp)
        lower_headers = {name.lower(): value for name, value in single_headers.items()}
        return {
            "resource": resource,
            "path": path,
            "httpMethod": method,
            "headers": single_headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": None if claims is None else {"proxy": path[len(API_PREFIX) + 1 :]},
            "stageVariables": None,
            "requestContext": {
                "accountId": LOCAL_ACCOUNT_ID,
                "apiId": "local",
                "resourceId": "local",
                "resourcePath": resource,
                "httpMethod": method,
                "extendedRequestId": request_id,
                "requestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "path": f"/{self.stage}{path}",
                "protocol": protocol,
                "stage": self.stage,
                "domainName": lower_headers.get("host", f"127.0.0.1:{self.port}"),
                "domainPrefix": "127",
                "identity": {
                    "sourceIp": source_ip,
                    "userAgent": lower_headers.get("user-agent"),
                    "accountId": None,
                    "apiKey": None,
                    "apiKeyId": None,
                    "caller": None,
                    "cognitoAuthenticationProvider": None,
                    "cognitoAuthenticationType": None,
                    "cognitoIdentityId": None,
                    "cognitoIdentityPoolId": None,
                    "principalOrgId": None,
                    "user": None,
                    "userArn": None,
                    "accessKey": None,
                },
                "authorizer": None
                if claims is None
                else {"claims": render_claims(claims, self.list_claims)},
            },
            # Without binary media types API Gateway hands text bodies to Lambda as they came.
            "body": body.decode("utf-8", errors="replace") if body else None,
            "isBase64Encoded": False,
        }

    def invoke(self, event: dict[str, Any]) -> _Reply:
        request_id = event["requestContext"]["requestId"]
        context = LocalLambdaContext(aws_request_id=request_id)
        failed = f"the API handler failed; see the local stack's log (request {request_id})"
        container = IN_PROCESS
        try:
            if self.containers is not None:
                result, container = self.containers.invoke(event, context)
            else:
                with self._invoke_lock:
                    result = self.handler(event, context)
        except InvocationFailed as error:
            # The developer sees the traceback in the local stack's log; the client sees what
            # API Gateway shows for a failed Lambda invocation.
            log.error("the API handler raised (request %s):\n%s", request_id, error)
            return self.problem_reply(502, failed)
        except ContainerCrashed as error:
            log.error("the API container crashed (request %s): %s", request_id, error)
            return self.problem_reply(502, f"{failed}: its container ended and is replaced")
        except ContainerTimedOut as error:
            log.error("the API handler timed out (request %s): %s", request_id, error)
            return self.problem_reply(504, f"the API handler did not answer: {error}")
        except Exception:
            log.exception("the API handler raised (request %s)", request_id)
            return self.problem_reply(502, failed)
        try:
            reply = self._proxy_reply(result)
        except _BadProxyResponse as error:
            log.error("malformed Lambda proxy response (request %s): %s", request_id, error)
            return self.problem_reply(
                502, f"the API handler returned a malformed proxy response: {error}"
            )
        # Local only (API Gateway sends nothing like it): which container answered, to see
        # the load spread over them (make load, the gateway's tests).
        return _Reply(reply.status, reply.body, [*reply.headers, (CONTAINER_HEADER, container)])

    @staticmethod
    def _proxy_reply(result: Any) -> _Reply:
        if not isinstance(result, dict):
            raise _BadProxyResponse(f"expected a dict, got {type(result).__name__}")
        status = result.get("statusCode")
        if isinstance(status, str) and status.isdigit():
            status = int(status)
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise _BadProxyResponse(f"statusCode {status!r} is not an HTTP status")
        single = result.get("headers") or {}
        multi = result.get("multiValueHeaders") or {}
        if not isinstance(single, dict) or not isinstance(multi, dict):
            raise _BadProxyResponse("headers and multiValueHeaders must be objects")
        # API Gateway merges the two; for a name in both, multiValueHeaders wins.
        headers: list[tuple[str, str]] = []
        multi_names = {str(name).lower() for name in multi}
        for name, values in multi.items():
            if not isinstance(values, list):
                raise _BadProxyResponse(f"multiValueHeaders[{name!r}] must be a list")
            headers.extend((str(name), str(value)) for value in values)
        for name, value in single.items():
            if str(name).lower() not in multi_names:
                headers.append((str(name), str(value)))
        headers = [(n, v) for n, v in headers if n.lower() not in _HOP_BY_HOP]
        body = result.get("body")
        if body is None:
            payload = b""
        elif not isinstance(body, str):
            raise _BadProxyResponse(f"body must be a string, got {type(body).__name__}")
        elif result.get("isBase64Encoded"):
            try:
                payload = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError) as error:
                raise _BadProxyResponse("isBase64Encoded is set but body is not base64") from error
        else:
            payload = body.encode("utf-8")
        return _Reply(status, payload, headers)

    def static_reply(self, target: str) -> _Reply:
        path = unquote(urlsplit(target).path)
        if self.static_dir is None:
            if path in ("/", "/index.html"):
                return _Reply(200, PLACEHOLDER_PAGE.encode(), [("Content-Type", "text/html")])
            return self.problem_reply(404, f"nothing at {path}")
        file = self._static_file(path)
        if file is None:
            return self.problem_reply(404, f"nothing at {path}")
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in (
            "application/javascript",
            "application/json",
        ):
            content_type += "; charset=utf-8"
        # As in AWS: the hashed bundles are cached for good (a page load after the first
        # fetches none of them again), everything else revalidates.
        hashed = PurePosixPath(path).parts[1:2] == (ASSETS_DIR,)
        cache = ASSETS_CACHE_CONTROL if hashed else "no-cache"
        headers = [("Content-Type", content_type), ("Cache-Control", cache)]
        return _Reply(200, file.read_bytes(), headers + self.site_headers())

    def site_headers(self) -> list[tuple[str, str]]:
        """What CloudFront's response headers policy adds to the dashboard's files in AWS."""
        if not self.content_security_policy:
            return []
        return [
            ("Content-Security-Policy", self.content_security_policy),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
        ]

    def config_reply(self) -> _Reply | None:
        if self.site_config is None:
            return None
        body = json.dumps(self.site_config, indent=2).encode()
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Cache-Control", "no-store"),
        ]
        return _Reply(200, body, headers)

    def _static_file(self, path: str) -> Path | None:
        """The file under ``static_dir`` for a URL path, or None; never a file outside it."""
        assert self.static_dir is not None
        parts = PurePosixPath(path).parts[1:]  # drop the root "/"
        if any(part in ("..", ".") or "\\" in part or "\x00" in part for part in parts):
            return None
        candidate = self.static_dir.joinpath(*parts)
        try:
            candidate = candidate.resolve()
        except (OSError, RuntimeError):
            return None
        # resolve() follows symlinks, so a link pointing out of the directory is refused too
        if not candidate.is_relative_to(self.static_dir):
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    def outbox_reply(self, as_json: bool, query: str = "") -> _Reply:
        """The outbox; ``?wait=SECONDS`` first waits (up to a minute) for the alerts to settle,
        and the JSON's ``idle`` says whether they had."""
        idle = None
        raw_wait = dict(parse_qsl(query)).get("wait")
        if raw_wait is not None:
            try:
                seconds = min(max(float(raw_wait), 0.0), MAX_WAIT_SECONDS)
            except ValueError:
                return self.problem_reply(400, "wait must be a number of seconds")
            idle = self.wait_idle(seconds) if self.wait_idle is not None else True
        outbox = self.outbox()
        if as_json:
            body = json.dumps({**outbox.as_json(), "idle": idle}).encode()
            return _Reply(200, body, [("Content-Type", "application/json")])
        page = render_outbox(outbox, receiver_url=f"{self.url}{WEBHOOKS_PREFIX}me")
        return _Reply(200, page.encode(), [("Content-Type", "text/html; charset=utf-8")])

    def webhook_reply(self, name: str, body: bytes, content_type: str, query: str) -> _Reply:
        """The local webhook receiver: records the delivery and answers 200 "ok" as Slack does,
        or the status ``?status=NNN`` asks for (to see how a failing receiver is handled)."""
        status = 200
        raw_status = dict(parse_qsl(query)).get("status", "")
        if raw_status.isdigit() and 200 <= int(raw_status) <= 599:
            status = int(raw_status)
        self.webhooks.record(
            WebhookDelivery(
                name=name,
                received_at=system_now(),
                content_type=content_type,
                body=body.decode("utf-8", errors="replace"),
                status=status,
            )
        )
        return _Reply(status, b"ok", [("Content-Type", "text/plain")])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    gateway: LocalGateway


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "TallyLocalGateway"
    timeout = 60  # a client that stops sending does not hold a thread forever

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def do_TRACE(self) -> None:
        # API Gateway has no TRACE (nor CONNECT): answer 405 as a problem, never echo a request.
        self.close_connection = True
        self._send(self.server.gateway.problem_reply(405, f"{self.command} is not supported"))

    do_CONNECT = do_TRACE

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own refusals (a request line or header over its limits, a
        malformed request) as problems too, never its HTML error page."""
        details = {
            HTTPStatus.REQUEST_URI_TOO_LONG: "the request URL is too long",
            HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: "the request headers are too large",
        }
        self.close_connection = True
        detail = details.get(HTTPStatus(code), message or HTTPStatus(code).phrase)
        self._send(self.server.gateway.problem_reply(code, detail))

    def _dispatch(self) -> None:
        gateway = self.server.gateway
        try:
            reply = self._over_limits(gateway) or self._route(gateway)
        except Exception:
            log.exception("the local gateway failed on %s %s", self.command, self.path)
            self.close_connection = True
            reply = gateway.problem_reply(500, "the local gateway failed; see its log")
        self._send(reply)

    def _over_limits(self, gateway: LocalGateway) -> _Reply | None:
        if len(self.path) > MAX_URL_CHARS:
            self.close_connection = True
            return gateway.problem_reply(414, f"the request URL is over {MAX_URL_CHARS} characters")
        size = len(self.requestline.encode("latin-1", "replace")) + sum(
            len(value.encode("latin-1", "replace")) for value in self.headers.values()
        )
        if size > MAX_HEADER_BYTES:
            self.close_connection = True
            return gateway.problem_reply(
                431, f"the request line and headers are over {MAX_HEADER_BYTES} bytes"
            )
        return None

    def _route(self, gateway: LocalGateway) -> _Reply:
        split = urlsplit(self.path)
        path = split.path
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            return self._api(gateway, path)
        if path.startswith(WEBHOOKS_PREFIX) and self.command == "POST":
            return self._webhook(gateway, path[len(WEBHOOKS_PREFIX) :], split.query)
        if path.startswith(S3_PREFIX) and self.command in ("GET", "HEAD") and gateway.s3_links:
            answer = gateway.s3_links.answer(self.command, self.path, self.headers.get("Host", ""))
            return _Reply(answer.status, answer.body, answer.headers)
        if self.command not in ("GET", "HEAD"):
            self.close_connection = True  # the body, if any, is left unread
            return gateway.problem_reply(405, f"{self.command} is not allowed on {path}")
        if path in ("/outbox", "/outbox/"):
            return gateway.outbox_reply(as_json=False, query=split.query)
        if path == "/outbox.json":
            return gateway.outbox_reply(as_json=True, query=split.query)
        if path == CONFIG_PATH:
            config = gateway.config_reply()
            if config is not None:
                return config
        return gateway.static_reply(self.path)

    def _api(self, gateway: LocalGateway, path: str) -> _Reply:
        if self.command == "OPTIONS":
            # CORS preflight: a mock integration in AWS, never behind the authorizer.
            self.close_connection = self._has_body()
            return gateway.preflight_reply()
        if len(path) <= len(API_PREFIX) + 1:
            self.close_connection = self._has_body()
            return gateway.problem_reply(404, f"no API resource at {path}")
        public = public_methods(path)
        claims: dict[str, Any] | _Reply | None
        if public is None:
            claims = gateway.authorize(self.headers.get("Authorization"))
        elif self.command in public:
            claims = None  # no authorizer on it: a token sent along is not even read
        else:
            # API Gateway's answer for a method its resource lacks (Missing Authentication
            # Token, which the deployed API's gateway responses turn into this 404).
            claims = gateway.problem_reply(404, "No such resource.")
        if isinstance(claims, _Reply):
            self.close_connection = self._has_body()
            return claims
        body = self._read_body(gateway)
        if isinstance(body, _Reply):
            self.close_connection = True
            return body
        event = gateway.build_event(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            claims=claims,
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )
        return gateway.invoke(event)

    def _webhook(self, gateway: LocalGateway, name: str, query: str) -> _Reply:
        if not name or "/" in name or len(name) > 64:
            self.close_connection = self._has_body()
            return gateway.problem_reply(404, "a webhook receiver is /webhooks/<name>")
        if not ipaddress.ip_address(self.client_address[0]).is_loopback:
            self.close_connection = True
            return gateway.problem_reply(403, "the webhook receiver takes loopback callers only")
        body = self._read_body(gateway)
        if isinstance(body, _Reply):
            self.close_connection = True
            return body
        return gateway.webhook_reply(name, body, self.headers.get("Content-Type", ""), query)

    def _has_body(self) -> bool:
        length = self.headers.get("Content-Length", "0").strip()
        return length not in ("", "0") or "Transfer-Encoding" in self.headers

    def _read_body(self, gateway: LocalGateway) -> bytes | _Reply:
        if self.headers.get("Transfer-Encoding"):
            return gateway.problem_reply(411, "send the body with a Content-Length")
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""
        try:
            length = int(raw_length)
            if length < 0:
                raise ValueError(raw_length)
        except ValueError:
            return gateway.problem_reply(400, "Content-Length is not a number")
        if length > gateway.max_body_bytes:
            return gateway.problem_reply(
                413,
                f"the request body is over {gateway.max_body_bytes} bytes",
            )
        return self.rfile.read(length) if length else b""

    def _send(self, reply: _Reply) -> None:
        bodiless = reply.status in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED)
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if not bodiless:
            self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and not bodiless and reply.body:
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.gateway.access_log:
            log.info("%s %s", self.address_string(), format % args)
