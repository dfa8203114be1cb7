"""The local stack's pieces over real HTTP: one moto server per test session (per xdist
worker), fresh resources per test.

Resources are provisioned per test because other tests in the same worker may use moto's
``mock_aws``, whose start wipes every backend in the process, the server's included.
"""

from __future__ import annotations

import functools
import http.client
import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from moto.utilities.utils import load_resource

from infra.local.aws import (
    ADMIN_ROLE,
    USER_ROLE,
    LocalAws,
    MotoServer,
    create_user,
    provision,
    start_moto,
)
from infra.local.client import initiate_auth
from infra.local.gateway import LocalGateway
from infra.local.tokens import CognitoTokenVerifier

_prefixes = itertools.count()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = start_moto(0)
    yield server
    server.stop()


@pytest.fixture
def local_aws(moto_server: MotoServer) -> LocalAws:
    return provision(moto_server.endpoint_url, prefix=f"tally-t{next(_prefixes)}")


@dataclass
class User:
    username: str
    password: str
    sub: str


def make_user(aws: LocalAws, username: str, role: str = USER_ROLE, **kw: Any) -> User:
    password = f"{username.title()}-Secret-Pass-9"
    return User(username, password, create_user(aws, username, password, role=role, **kw))


@pytest.fixture
def alice(local_aws: LocalAws) -> User:
    return make_user(local_aws, "alice")


@pytest.fixture
def root(local_aws: LocalAws) -> User:
    """An admin who is in both groups, to see how a list claim is rendered."""
    return make_user(local_aws, "root", ADMIN_ROLE, extra_groups=["users"])


def tokens_for(aws: LocalAws, user: User) -> dict[str, Any]:
    return initiate_auth(aws.endpoint_url, aws.client_id, user.username, user.password)


@dataclass
class FakeHandler:
    """Stands in for ``api.handler.lambda_handler``: records events, answers as told."""

    events: list[dict[str, Any]] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)
    answer: Callable[[dict[str, Any]], Any] = lambda event: {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"ok": True}),
    }

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        return self.answer(event)


@pytest.fixture
def handler() -> FakeHandler:
    return FakeHandler()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A dashboard directory, with a file beside it that must never be served."""
    root = tmp_path / "site"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<h1>dashboard</h1>")
    (root / "assets" / "app.js").write_text("console.log('tally')")
    (tmp_path / "secret.txt").write_text("TOP-SECRET")
    (root / "escape").symlink_to(tmp_path / "secret.txt")
    return root


def start_gateway(aws: LocalAws, handler: FakeHandler, **kw: Any) -> LocalGateway:
    verifier = CognitoTokenVerifier(
        jwks_url=aws.jwks_url, user_pool_id=aws.user_pool_id, client_id=aws.client_id
    )
    return LocalGateway(handler=handler, verifier=verifier, port=0, access_log=False, **kw).start()


@pytest.fixture
def gateway(local_aws: LocalAws, handler: FakeHandler, site: Path) -> Iterator[LocalGateway]:
    gw = start_gateway(local_aws, handler, static_dir=site)
    yield gw
    gw.stop()


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def problem(self) -> dict[str, Any]:
        assert self.headers["Content-Type"] == "application/problem+json", self.headers
        body = self.json()
        assert set(body) >= {"type", "title", "status", "detail"}
        assert body["status"] == self.status
        return body


def call(
    base_url: str,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10,
) -> Response:
    """One request with the path sent exactly as given (no client-side normalisation)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        connection.close()


@functools.cache
def moto_signing_key() -> Any:
    """moto signs every pool's tokens with this one key (kid "dummy"); read once, as loading
    an RSA private key checks it (about 0.3 s each time here)."""
    return jwt.PyJWK.from_dict(load_resource("cognitoidp/resources/jwks-private.json")).key


def forge(aws: LocalAws, key: Any = None, kid: str = "dummy", **overrides: Any) -> str:
    """An ID token like moto's, with ``overrides`` applied (None removes a claim)."""
    now = int(time.time())  # real time: token expiry is checked against the real clock
    claims: dict[str, Any] = {
        "iss": f"https://cognito-idp.{aws.region}.amazonaws.com/{aws.user_pool_id}",
        "sub": "11111111-2222-3333-4444-555555555555",
        "aud": aws.client_id,
        "token_use": "id",
        "iat": now,
        "auth_time": now,
        "exp": now + 3600,
        "cognito:username": "forged",
        "cognito:groups": ["users"],
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key or moto_signing_key(), algorithm="RS256", headers={"kid": kid})
