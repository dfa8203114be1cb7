"""The local gateway over real HTTP, with a fake handler and moto's Cognito."""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.local.aws import (
    LocalAws,
    MotoServer,
    PortInUse,
    aws_client,
    provision,
    provision_user_pool,
    start_moto,
)
from infra.local.containers import (
    CONTAINERS_VARIABLE,
    DEFAULT_CONTAINERS,
    ContainerPool,
    containers_setting,
)
from infra.local.gateway import CONTAINER_HEADER, IN_PROCESS, LocalGateway
from infra.local.tokens import LIST_CLAIMS_BRACKETS
from tests.local.conftest import (
    FakeHandler,
    User,
    call,
    forge,
    start_gateway,
    tokens_for,
)

DATE_CLAIM = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$")

_pools = itertools.count()


@pytest.fixture(scope="module")
def module_aws(moto_server: MotoServer) -> LocalAws:
    """The stack's resources, made once for this module: its tests read only the user pool
    (each test has its own, below) and SES's sent messages (found by a marker of their own).
    A module's tests run together on one worker (tests/conftest.py), so no ``mock_aws`` of
    another module wipes the server between them."""
    return provision(moto_server.endpoint_url, prefix="tally-gateway")


@pytest.fixture
def local_aws(module_aws: LocalAws) -> LocalAws:
    """A user pool and app client of its own for each test (its users, groups and tokens),
    as ``provision`` makes them: about 0.3 s where the whole of ``provision`` took 1-3 s, most
    of this module's time."""
    cognito = aws_client("cognito-idp", module_aws.endpoint_url, module_aws.region)
    pool_id, client_id = provision_user_pool(cognito, f"tally-gateway{next(_pools)}")
    return replace(module_aws, user_pool_id=pool_id, client_id=client_id)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- 401 like API Gateway's Cognito authorizer ---------------------------------------------


def test_no_token_is_401_problem_json(gateway: LocalGateway, handler: FakeHandler) -> None:
    response = call(gateway.url, "GET", "/api/me")

    assert response.status == 401
    assert response.problem["title"] == "Unauthorized"
    assert "Authorization" in response.problem["detail"]
    assert handler.events == []


@pytest.mark.parametrize(
    ("case", "expected_detail"),
    [
        ("expired", "expired"),
        ("other_key", "invalid"),
        ("unknown_kid", "not signed by a key of this user pool"),
        ("wrong_audience", "another app client"),
        ("access_token_use", "ID token is required"),
        ("other_pool", "another user pool"),
        ("no_exp", "invalid"),
        ("hs256", "RS256"),
        ("not_a_jwt", "not a readable JWT"),
    ],
)
def test_bad_tokens_are_401(
    case: str,
    expected_detail: str,
    gateway: LocalGateway,
    handler: FakeHandler,
    local_aws: LocalAws,
) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())  # real time: token expiry
    token = {
        "expired": lambda: forge(local_aws, iat=now - 7200, exp=now - 3600),
        "other_key": lambda: forge(local_aws, key=other_key),
        "unknown_kid": lambda: forge(local_aws, key=other_key, kid="rotated-away"),
        "wrong_audience": lambda: forge(local_aws, aud="some-other-client"),
        "access_token_use": lambda: forge(local_aws, token_use="access"),
        "other_pool": lambda: forge(
            local_aws, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"
        ),
        "no_exp": lambda: forge(local_aws, exp=None),
        "hs256": lambda: jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256"),
        "not_a_jwt": lambda: "definitely-not-a-token",
    }[case]()

    response = call(gateway.url, "GET", "/api/me", headers=bearer(token))

    assert response.status == 401
    assert expected_detail in response.problem["detail"]
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert handler.events == []


def test_a_real_access_token_is_refused(
    gateway: LocalGateway, handler: FakeHandler, local_aws: LocalAws, alice: User
) -> None:
    access_token = tokens_for(local_aws, alice)["AccessToken"]

    response = call(gateway.url, "GET", "/api/me", headers=bearer(access_token))

    assert response.status == 401
    assert handler.events == []


def test_a_token_of_another_pools_client_is_refused(
    gateway: LocalGateway, handler: FakeHandler, moto_server: object, local_aws: LocalAws
) -> None:
    from infra.local.aws import provision
    from tests.local.conftest import make_user

    other = provision(local_aws.endpoint_url, prefix=f"tally-other-{uuid.uuid4().hex[:6]}")
    stranger = make_user(other, "stranger")
    token = tokens_for(other, stranger)["IdToken"]

    response = call(gateway.url, "GET", "/api/me", headers=bearer(token))

    assert response.status == 401
    assert handler.events == []


# -- a valid token reaches the handler as a REST proxy event --------------------------------


def test_valid_id_token_reaches_handler_as_rest_proxy_event(
    gateway: LocalGateway, handler: FakeHandler, local_aws: LocalAws, alice: User
) -> None:
    token = tokens_for(local_aws, alice)["IdToken"]

    response = call(
        gateway.url,
        "GET",
        "/api/billing/budgets/abc%20def?limit=5&tag=a&tag=b&empty=",
        headers={**bearer(token), "X-Trace": "one", "User-Agent": "pytest"},
    )

    assert response.status == 200
    assert response.json() == {"ok": True}
    [event] = handler.events
    assert event["resource"] == "/api/{proxy+}"
    assert event["path"] == "/api/billing/budgets/abc def"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"proxy": "billing/budgets/abc def"}
    assert event["queryStringParameters"] == {"limit": "5", "tag": "b", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {
        "limit": ["5"],
        "tag": ["a", "b"],
        "empty": [""],
    }
    assert event["headers"]["X-Trace"] == "one"
    assert event["headers"]["Authorization"] == f"Bearer {token}"
    assert event["multiValueHeaders"]["X-Trace"] == ["one"]
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "local"
    assert context["resourcePath"] == "/api/{proxy+}"
    assert context["path"] == "/local/api/billing/budgets/abc def"
    assert uuid.UUID(context["requestId"])
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "pytest"
    claims = context["authorizer"]["claims"]
    assert claims["sub"] == alice.sub
    assert claims["cognito:username"] == "alice"
    assert claims["cognito:groups"] == "users"
    assert claims["token_use"] == "id"
    assert claims["aud"] == local_aws.client_id
    assert claims["iss"].endswith(f"/{local_aws.user_pool_id}")
    assert all(isinstance(value, str) for value in claims.values())
    assert DATE_CLAIM.match(claims["exp"]) and DATE_CLAIM.match(claims["iat"])
    assert claims["auth_time"].isdigit()
    assert handler.contexts[0].aws_request_id == context["requestId"]
    assert handler.contexts[0].get_remaining_time_in_millis() > 0


def test_raw_token_without_bearer_is_accepted(
    gateway: LocalGateway, handler: FakeHandler, local_aws: LocalAws, alice: User
) -> None:
    token = tokens_for(local_aws, alice)["IdToken"]

    response = call(gateway.url, "GET", "/api/me", headers={"Authorization": token})

    assert response.status == 200
    assert handler.events[0]["queryStringParameters"] is None
    assert handler.events[0]["multiValueQueryStringParameters"] is None


def test_several_groups_render_as_one_string(
    gateway: LocalGateway, handler: FakeHandler, local_aws: LocalAws, root: User
) -> None:
    token = tokens_for(local_aws, root)["IdToken"]

    call(gateway.url, "GET", "/api/me", headers=bearer(token))

    assert handler.events[0]["requestContext"]["authorizer"]["claims"]["cognito:groups"] in (
        "admins,users",
        "users,admins",
    )


def test_bracket_style_groups_can_be_chosen(
    local_aws: LocalAws, handler: FakeHandler, root: User
) -> None:
    token = tokens_for(local_aws, root)["IdToken"]
    with start_gateway(local_aws, handler, list_claims=LIST_CLAIMS_BRACKETS) as gateway:
        call(gateway.url, "GET", "/api/me", headers=bearer(token))

    groups = handler.events[0]["requestContext"]["authorizer"]["claims"]["cognito:groups"]
    assert groups in ("[admins users]", "[users admins]")


def test_body_is_passed_as_text(
    gateway: LocalGateway, handler: FakeHandler, local_aws: LocalAws, alice: User
) -> None:
    token = tokens_for(local_aws, alice)["IdToken"]
    body = json.dumps({"monthlyLimit": "12.50", "note": "café"}).encode()

    call(
        gateway.url,
        "POST",
        "/api/billing/budgets",
        headers={**bearer(token), "Content-Type": "application/json"},
        body=body,
    )

    [event] = handler.events
    assert event["httpMethod"] == "POST"
    assert event["body"] == body.decode()
    assert event["isBase64Encoded"] is False


def test_body_over_the_limit_is_413_without_calling_the_handler(
    local_aws: LocalAws, handler: FakeHandler, alice: User
) -> None:
    token = tokens_for(local_aws, alice)["IdToken"]
    with start_gateway(local_aws, handler, max_body_bytes=1024) as gateway:
        response = call(
            gateway.url, "POST", "/api/billing/budgets", headers=bearer(token), body=b"x" * 1025
        )

    assert response.status == 413
    assert "1024 bytes" in response.problem["detail"]
    assert handler.events == []


# -- the handler's answer, written back as API Gateway writes it -------------------------------


def test_handler_headers_are_merged_and_base64_bodies_decoded(
    gateway: LocalGateway, handler: FakeHandler, local_aws: LocalAws, alice: User
) -> None:
    token = tokens_for(local_aws, alice)["IdToken"]
    handler.answer = lambda event: {
        "statusCode": 201,
        "headers": {"Content-Type": "application/pdf", "X-Both": "from-headers"},
        "multiValueHeaders": {"X-Both": ["multi-1", "multi-2"], "X-Multi": ["a", "b"]},
        "body": base64.b64encode(b"%PDF-1.7 bytes").decode(),
        "isBase64Encoded": True,
    }

    response = call(gateway.url, "GET", "/api/reports/x.pdf", headers=bearer(token))

    assert response.status == 201
    assert response.body == b"%PDF-1.7 bytes"
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers.get_all("X-Both") == ["multi-1", "multi-2"]
    assert response.headers.get_all("X-Multi") == ["a", "b"]


def test_handler_crash_is_502_problem_without_stack_trace(
    gateway: LocalGateway, handler: FakeHandler, local_aws: LocalAws, alice: User
) -> None:
    token = tokens_for(local_aws, alice)["IdToken"]

    def crash(event: dict[str, object]) -> dict[str, object]:
        raise RuntimeError("database password is hunter2")

    handler.answer = crash

    response = call(gateway.url, "GET", "/api/me", headers=bearer(token))

    assert response.status == 502
    assert response.problem["title"] == "Bad Gateway"
    assert b"Traceback" not in response.body
    assert b"hunter2" not in response.body


@pytest.mark.parametrize(
    "answer",
    [None, {"body": "no status"}, {"statusCode": 200, "body": {"not": "a string"}}],
)
def test_malformed_proxy_response_is_502(
    answer: object,
    gateway: LocalGateway,
    handler: FakeHandler,
    local_aws: LocalAws,
    alice: User,
) -> None:
    token = tokens_for(local_aws, alice)["IdToken"]
    handler.answer = lambda event: answer

    response = call(gateway.url, "GET", "/api/me", headers=bearer(token))

    assert response.status == 502
    assert response.problem["status"] == 502


def test_only_the_unsubscribe_link_passes_without_a_token(
    gateway: LocalGateway, handler: FakeHandler
) -> None:
    """As in AWS (infra/constructs/api.py): GET and POST /api/unsubscribe have no authorizer;
    a token sent along is not read, and the event carries no claims."""
    page = call(gateway.url, "GET", "/api/unsubscribe?token=abc")
    one_click = call(
        gateway.url,
        "POST",
        "/api/unsubscribe?token=abc",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Bearer not-a-jwt",
        },
        body=b"List-Unsubscribe=One-Click",
    )
    assert (page.status, one_click.status) == (200, 200)
    assert [e["httpMethod"] for e in handler.events] == ["GET", "POST"]
    for event in handler.events:
        assert event["requestContext"]["authorizer"] is None
        assert event["resource"] == "/api/unsubscribe"
        assert event["queryStringParameters"] == {"token": "abc"}
    assert handler.events[1]["body"] == "List-Unsubscribe=One-Click"
    # Its other methods and every other path still need a token.
    assert call(gateway.url, "PUT", "/api/unsubscribe?token=abc").status == 404
    for path in ("/api/unsubscribe/x", "/api/unsubscribe-all", "/api/preferences"):
        assert call(gateway.url, "GET", path).status == 401
    assert len(handler.events) == 2


def test_health_passes_without_a_token(gateway: LocalGateway, handler: FakeHandler) -> None:
    """As in AWS: GET /api/health has no authorizer (uptime monitors hold no token)."""
    assert call(gateway.url, "GET", "/api/health").status == 200
    (event,) = handler.events
    assert event["requestContext"]["authorizer"] is None
    assert event["resource"] == "/api/health"
    assert call(gateway.url, "POST", "/api/health").status == 404
    assert call(gateway.url, "GET", "/api/health/x").status == 401
    assert len(handler.events) == 1


def test_the_payments_webhook_is_public_only_when_payments_are_on(
    gateway: LocalGateway, handler: FakeHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As CDK makes it: no route without TALLY_PAYMENTS (behind the authorizer: 401), and a
    POST without the authorizer with it (Stripe's signature authorises, in the function)."""
    path = "/api/payments/stripe/webhook"
    assert call(gateway.url, "POST", path, body=b"{}").status == 401
    assert handler.events == []
    monkeypatch.setenv("TALLY_PAYMENTS", "stripe")
    assert call(gateway.url, "POST", path, body=b"{}").status == 200
    (event,) = handler.events
    assert event["requestContext"]["authorizer"] is None
    assert event["resource"] == path
    assert call(gateway.url, "GET", path).status == 404


# -- CORS, static files, outbox ---------------------------------------------------------------


def test_preflight_is_answered_without_a_token(gateway: LocalGateway, handler: FakeHandler) -> None:
    response = call(
        gateway.url,
        "OPTIONS",
        "/api/billing/budgets",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )

    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == gateway.url
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert handler.events == []


def test_dashboard_files_are_served(gateway: LocalGateway) -> None:
    index = call(gateway.url, "GET", "/")
    script = call(gateway.url, "GET", "/assets/app.js")

    assert index.status == 200 and index.body == b"<h1>dashboard</h1>"
    assert index.headers["Content-Type"].startswith("text/html")
    assert script.status == 200
    assert "javascript" in script.headers["Content-Type"]
    # As CloudFront serves them: hashed bundles cached for good, the page revalidated.
    assert script.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert index.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/..\\secret.txt",
        "/escape",  # a symlink pointing out of the directory
        "//etc/passwd",
        "/%00index.html",
    ],
)
def test_static_path_traversal_is_refused(gateway: LocalGateway, path: str) -> None:
    response = call(gateway.url, "GET", path)

    assert response.status == 404
    assert b"TOP-SECRET" not in response.body
    assert b"root:" not in response.body


def test_placeholder_page_without_a_dashboard(local_aws: LocalAws, handler: FakeHandler) -> None:
    with start_gateway(local_aws, handler, static_dir=None) as gateway:
        response = call(gateway.url, "GET", "/")

    assert response.status == 200
    assert b"make dashboard" in response.body


def test_config_json_is_the_dashboards_runtime_configuration(
    local_aws: LocalAws, handler: FakeHandler, site: Path
) -> None:
    config = {"apiUrl": "/api", "region": "us-east-1", "clientId": "abc"}
    with start_gateway(local_aws, handler, static_dir=site, site_config=config) as gateway:
        response = call(gateway.url, "GET", "/config.json")

    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == config
    assert not handler.events  # no token needed: the page reads it before sign-in


def test_without_a_configuration_config_json_is_a_plain_file(
    local_aws: LocalAws, handler: FakeHandler, site: Path
) -> None:
    with start_gateway(local_aws, handler, static_dir=site) as gateway:
        response = call(gateway.url, "GET", "/config.json")

    assert response.status == 404


def test_dashboard_files_carry_the_content_security_policy(
    local_aws: LocalAws, handler: FakeHandler, site: Path
) -> None:
    policy = "default-src 'none'; script-src 'self'"
    with start_gateway(
        local_aws, handler, static_dir=site, content_security_policy=policy
    ) as gateway:
        page = call(gateway.url, "GET", "/")
        script = call(gateway.url, "GET", "/assets/app.js")

    for response in (page, script):
        assert response.headers["Content-Security-Policy"] == policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_outbox_lists_sent_emails_newest_first(gateway: LocalGateway, local_aws: LocalAws) -> None:
    ses = aws_client("ses", local_aws.endpoint_url)
    marker = uuid.uuid4().hex[:8]
    for subject in (f"first {marker}", f"second <b>{marker}</b>"):
        ses.send_email(
            Source=local_aws.sender_email,
            Destination={"ToAddresses": ["alice@example.com"]},
            Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": f"body {marker}"}}},
        )

    page = call(gateway.url, "GET", "/outbox")
    listing = call(gateway.url, "GET", "/outbox.json").json()["emails"]

    assert page.status == 200
    text = page.body.decode()
    assert text.index(f"second &lt;b&gt;{marker}") < text.index(f"first {marker}")
    assert f"<b>{marker}</b>" not in text  # subjects are escaped
    assert "alice@example.com" in text and f"body {marker}" in text
    mine = [m for m in listing if marker in m["subject"]]
    assert [m["subject"] for m in mine] == [f"second <b>{marker}</b>", f"first {marker}"]
    assert mine[0]["to"] == ["alice@example.com"]


# -- ports ------------------------------------------------------------------------------------


def test_taken_ports_fail_with_a_clear_message(local_aws: LocalAws, handler: FakeHandler) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(PortInUse, match="TALLY_PORT"):
            LocalGateway(handler=handler, verifier=None, port=port)  # type: ignore[arg-type]
        with pytest.raises(PortInUse, match="TALLY_AWS_PORT"):
            start_moto(port)


# -- API Gateway's own limits, and the loopback address (security review, issue 9) ---------


def test_an_over_long_url_is_414_problem_json(gateway: LocalGateway, handler: FakeHandler) -> None:
    response = call(gateway.url, "GET", "/api/me?q=" + "x" * 9000)

    assert response.status == 414
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.problem["status"] == 414
    assert handler.events == []


def test_over_large_headers_are_431_problem_json(
    gateway: LocalGateway, handler: FakeHandler
) -> None:
    headers = {f"X-Pad-{n}": "y" * 1000 for n in range(11)}
    response = call(gateway.url, "GET", "/api/me", headers=headers)

    assert response.status == 431
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.problem["status"] == 431
    assert handler.events == []


def test_the_standard_librarys_own_refusals_are_problem_json(gateway: LocalGateway) -> None:
    """A request line beyond http.server's own 64 KiB limit never reaches the gateway."""
    response = call(gateway.url, "GET", "/" + "x" * 70_000)

    assert response.status == 414
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_the_gateway_listens_on_loopback_only(
    local_aws: LocalAws, handler: FakeHandler, host: str
) -> None:
    with pytest.raises(ValueError, match="loopback"):
        LocalGateway(handler=handler, verifier=None, host=host, port=0)  # type: ignore[arg-type]


def test_if_none_match_and_304_pass_through(
    gateway: LocalGateway, handler: FakeHandler, local_aws: LocalAws, alice: User
) -> None:
    """The API's conditional reads (api/caching.py): If-None-Match reaches the handler, and
    its 304 reaches the browser with the ETag and without a body."""
    token = tokens_for(local_aws, alice)["IdToken"]
    handler.answer = lambda event: {
        "statusCode": 304,
        "multiValueHeaders": {"ETag": ['"v1"'], "Vary": ["Authorization"]},
        "body": "",
    }
    response = call(
        gateway.url, "GET", "/api/me", headers={**bearer(token), "If-None-Match": '"v1"'}
    )
    assert response.status == 304 and response.body == b""
    assert response.headers["ETag"] == '"v1"' and response.headers["Vary"] == "Authorization"
    [event] = handler.events
    assert event["headers"]["If-None-Match"] == '"v1"'
    preflight = call(
        gateway.url,
        "OPTIONS",
        "/api/me",
        headers={"Origin": gateway.url, "Access-Control-Request-Method": "GET"},
    )
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]


# -- the API in warm containers (worker processes), several at once ------------------------

HANDLERS = "tests.local.container_handlers:lambda_handler"


@pytest.fixture
def pooled(local_aws: LocalAws, handler: FakeHandler) -> Iterator[LocalGateway]:
    """A gateway whose API runs in up to three containers of the test handlers."""
    gateway = start_gateway(local_aws, handler, containers=ContainerPool(HANDLERS, size=3))
    yield gateway
    gateway.stop()


def test_concurrent_requests_are_served_by_several_containers_at_once(
    pooled: LocalGateway, handler: FakeHandler, local_aws: LocalAws, alice: User, tmp_path: Path
) -> None:
    token = tokens_for(local_aws, alice)["IdToken"]
    path = f"/api/rendezvous?dir={tmp_path}&n=3"

    with ThreadPoolExecutor(max_workers=3) as pool:
        responses = list(
            pool.map(
                lambda _: call(pooled.url, "GET", path, headers=bearer(token), timeout=30), "abc"
            )
        )

    # Each request waited until all three had arrived: they were served at the same time,
    # each by a container of its own.
    assert [r.status for r in responses] == [200, 200, 200]
    assert [r.json()["met"] for r in responses] == [3, 3, 3]
    assert len({r.json()["pid"] for r in responses}) == 3
    names = {r.headers[CONTAINER_HEADER] for r in responses}
    assert names == {"c1", "c2", "c3"}
    assert pooled.containers is not None
    assert dict(pooled.containers.invocations) == {"c1": 1, "c2": 1, "c3": 1}
    assert handler.events == []  # the in-process handler is not used


def test_a_warm_container_serves_the_next_request_with_its_deadline(
    pooled: LocalGateway, local_aws: LocalAws, alice: User
) -> None:
    token = tokens_for(local_aws, alice)["IdToken"]

    first = call(pooled.url, "GET", "/api/me", headers=bearer(token))
    second = call(pooled.url, "GET", "/api/me", headers=bearer(token))

    assert (first.status, second.status) == (200, 200)
    assert first.headers[CONTAINER_HEADER] == second.headers[CONTAINER_HEADER] == "c1"
    assert first.json()["pid"] == second.json()["pid"]
    assert 0 < second.json()["remaining_ms"] <= 29_000
    assert pooled.containers is not None and pooled.containers.running() == 1


def test_warming_up_starts_every_container_before_any_request(
    pooled: LocalGateway, local_aws: LocalAws, alice: User
) -> None:
    assert pooled.containers is not None
    pooled.containers.warm_up().join()

    assert pooled.containers.running() == 3
    assert not pooled.containers.invocations  # warming is not an invocation
    token = tokens_for(local_aws, alice)["IdToken"]
    response = call(pooled.url, "GET", "/api/me", headers=bearer(token))
    assert response.status == 200 and response.headers[CONTAINER_HEADER] in {"c1", "c2", "c3"}
    assert pooled.containers.running() == 3


def test_warming_up_a_handler_that_cannot_be_imported_logs_why_and_keeps_none(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = ContainerPool("tests.local.container_handlers:no_such_handler", size=2)
    try:
        broken.warm_up().join()
    finally:
        broken.close()

    assert broken.running() == 0
    failures = [r.getMessage() for r in caplog.records if "cannot start" in r.getMessage()]
    assert len(failures) == 2
    assert all("AttributeError" in f and "no_such_handler" in f for f in failures)


def test_a_container_that_dies_fails_its_request_only_and_is_replaced(
    pooled: LocalGateway, local_aws: LocalAws, alice: User
) -> None:
    token = tokens_for(local_aws, alice)["IdToken"]
    before = call(pooled.url, "GET", "/api/me", headers=bearer(token))

    crashed = call(pooled.url, "GET", "/api/crash", headers=bearer(token))
    after = call(pooled.url, "GET", "/api/me", headers=bearer(token))

    assert crashed.status == 502
    assert "its container ended and is replaced" in crashed.problem["detail"]
    assert after.status == 200
    assert after.headers[CONTAINER_HEADER] == "c2"  # a new container, under a new name
    assert after.json()["pid"] != before.json()["pid"]


def test_a_container_that_ended_while_idle_is_not_given_a_request(
    pooled: LocalGateway, local_aws: LocalAws, alice: User
) -> None:
    token = tokens_for(local_aws, alice)["IdToken"]
    first = call(pooled.url, "GET", "/api/me", headers=bearer(token))
    os.kill(first.json()["pid"], signal.SIGKILL)
    os.waitpid(first.json()["pid"], 0)

    after = call(pooled.url, "GET", "/api/me", headers=bearer(token))

    assert after.status == 200 and after.headers[CONTAINER_HEADER] == "c2"


def test_a_handler_error_is_502_and_the_container_stays_warm(
    pooled: LocalGateway, local_aws: LocalAws, alice: User
) -> None:
    token = tokens_for(local_aws, alice)["IdToken"]

    failed = call(pooled.url, "GET", "/api/raise", headers=bearer(token))
    after = call(pooled.url, "GET", "/api/me", headers=bearer(token))

    assert failed.status == 502
    assert failed.problem["title"] == "Bad Gateway"
    assert b"Traceback" not in failed.body and b"hunter2" not in failed.body
    assert after.status == 200 and after.headers[CONTAINER_HEADER] == "c1"


def test_a_handler_that_cannot_be_imported_is_502_for_each_request(
    local_aws: LocalAws, handler: FakeHandler, alice: User
) -> None:
    token = tokens_for(local_aws, alice)["IdToken"]
    broken = ContainerPool("tests.local.container_handlers:no_such_handler", size=2)

    with start_gateway(local_aws, handler, containers=broken) as gateway:
        answers = [call(gateway.url, "GET", "/api/me", headers=bearer(token)) for _ in range(2)]

    assert [a.status for a in answers] == [502, 502]
    assert all(a.problem["status"] == 502 for a in answers)
    assert broken.running() == 0  # none is kept: each import failed anew, as in Lambda


def test_a_request_over_the_integration_timeout_is_504_and_its_container_stopped(
    local_aws: LocalAws, handler: FakeHandler, alice: User
) -> None:
    token = tokens_for(local_aws, alice)["IdToken"]
    pool = ContainerPool(HANDLERS, size=1, timeout=3.0)

    with start_gateway(local_aws, handler, containers=pool) as gateway:
        slow = call(gateway.url, "GET", "/api/sleep?seconds=60", headers=bearer(token), timeout=20)
        after = call(gateway.url, "GET", "/api/me", headers=bearer(token), timeout=20)

    assert slow.status == 504
    assert slow.problem["detail"] == "the API handler did not answer: container c1 took over 3 s"
    assert after.status == 200 and after.headers[CONTAINER_HEADER] == "c2"


def test_an_in_process_handler_is_named_as_such(
    gateway: LocalGateway, local_aws: LocalAws, alice: User
) -> None:
    token = tokens_for(local_aws, alice)["IdToken"]

    response = call(gateway.url, "GET", "/api/me", headers=bearer(token))

    assert response.headers[CONTAINER_HEADER] == IN_PROCESS


@pytest.mark.parametrize(
    ("raw", "size"), [(None, DEFAULT_CONTAINERS), ("", DEFAULT_CONTAINERS), ("1", 1), ("8", 8)]
)
def test_the_number_of_containers_is_a_setting(raw: str | None, size: int) -> None:
    assert containers_setting({} if raw is None else {CONTAINERS_VARIABLE: raw}) == size


@pytest.mark.parametrize("raw", ["0", "-1", "two", "33"])
def test_a_bad_number_of_containers_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match=CONTAINERS_VARIABLE):
        containers_setting({CONTAINERS_VARIABLE: raw})
