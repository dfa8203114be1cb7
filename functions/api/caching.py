"""HTTP validators: every successful GET carries a strong ``ETag``; a request whose
``If-None-Match`` names the current one is answered 304 without a body (RFC 9110 13.1.2,
15.4.5). ``Cache-Control: private, no-cache`` (``handler._security_headers``) lets the
caller's own browser keep a response but makes it ask each time, so a 304 costs a round trip
and no figures, and a change is seen at once.

Two kinds of ETag:

- **versions** (``version_etag`` in a route, before it reads the figures): a digest of what
  the response depends on (the caller, the route and query, the versions of the items it is
  computed from, the app version). A match is answered 304 without reading or computing the
  figures. The user summary does this (``tally.reports.summary_version``).
- **body** (``conditional``, in the handler's response path, for every other GET): a digest of
  the caller, the route and query and the body. A match still costs the reads, but not the
  download.

Either way the caller is part of the digest, so one user's ETag never matches another's
response; problem responses and other statuses get none.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from api.problems import CONTENT_TYPE as PROBLEM_CONTENT_TYPE

if TYPE_CHECKING:
    from pydantic import BaseModel

VERSION_VARIABLE = "TALLY_VERSION"
# Responses differ per caller: a cache (the browser's, or any on the way) must key on it.
VARY = "Authorization"
NOT_MODIFIED_DOC: OpenAPIResponse = {
    "description": "Not Modified: If-None-Match names the current ETag"
}


def app_version() -> str:
    """The deployed code's version (CDK sets ``TALLY_VERSION`` from the code and layer asset
    hashes, so any deploy changes it); "dev" where it is not set (the local stack, tests)."""
    return os.environ.get(VERSION_VARIABLE) or "dev"


def strong_etag(*parts: str) -> str:
    """A strong ETag: a quoted digest of ``parts`` (unit-separated, so parts cannot run into
    each other)."""
    return '"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match value names ``etag`` (weak comparison, as RFC 9110 asks for
    If-None-Match; ``*`` names any current representation)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == bare for t in if_none_match.split(","))


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    return next((str(v) for k, v in (headers or {}).items() if k.lower() == name), None)


def _caller(event: Mapping[str, Any]) -> str:
    """The verified caller's ``sub`` (API Gateway's authorizer claims); "" on a public route."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    return str((authorizer.get("claims") or {}).get("sub") or "")


def _request(event: Mapping[str, Any]) -> list[str]:
    """Who asks for what: the caller, the method, the path and the query (sorted)."""
    query = event.get("multiValueQueryStringParameters") or {}
    pairs = sorted((k, v) for k, values in query.items() for v in values or ())
    return [
        _caller(event),
        str(event.get("httpMethod") or ""),
        str(event.get("path") or ""),
        "&".join(f"{k}={v}" for k, v in pairs),
    ]


# --- in a route: ETags from versions -------------------------------------------------------


def version_etag(router: BaseRouter, version: str) -> str:
    """The ETag of this request's response when what it depends on has ``version`` (the
    app version is added: a deploy may change what the same data looks like)."""
    return strong_etag("version", app_version(), *_request(router.current_event.raw_event), version)


def if_none_match(router: BaseRouter) -> str | None:
    """The request's If-None-Match: the ETags the caller holds (None without one)."""
    return _header(router.current_event.headers, "if-none-match") or None


def is_fresh(router: BaseRouter, etag: str) -> bool:
    """Whether the request's If-None-Match names ``etag``: the caller already has it."""
    return matches(if_none_match(router), etag)


def not_modified(etag: str) -> Response[str]:
    return Response(status_code=304, body="", headers={"ETag": etag})


def json_response(model: BaseModel, etag: str | None) -> Response[str]:
    """``model`` as the 200 answer, with ``etag`` when there is one."""
    return Response(
        status_code=200,
        content_type="application/json",
        body=model.model_dump_json(by_alias=True),
        headers={"ETag": etag} if etag is not None else None,
    )


# --- in the handler: ETags from bodies -----------------------------------------------------


class _Headers:
    """A proxy response's headers, single- or multi-valued (Powertools writes the latter)."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response

    def get(self, name: str) -> str | None:
        multi = self.response.get("multiValueHeaders") or {}
        found = next((v for k, v in multi.items() if k.lower() == name), None)
        if found:
            return ", ".join(str(v) for v in found)
        return _header(self.response.get("headers"), name)

    def remove(self, name: str) -> None:
        for key in ("multiValueHeaders", "headers"):
            current = self.response.get(key) or {}
            for k in [k for k in current if k.lower() == name.lower()]:
                del current[k]

    def set(self, name: str, value: str) -> None:
        self.remove(name)
        if self.response.get("multiValueHeaders") is not None or not self.response.get("headers"):
            self.response["multiValueHeaders"] = {
                **(self.response.get("multiValueHeaders") or {}),
                name: [value],
            }
        else:
            self.response["headers"][name] = value


def conditional(event: Mapping[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """The handler's response, with ``Vary: Authorization`` always and, for a signed-in
    caller's successful GET that has no ETag of its own, a body ETag; answered 304 without
    the body when the request's If-None-Match names it.

    An ETag a route set stays as it is: a route that can answer 304 for less does so itself
    (``version_etag``), and the version ETags of budgets, teams, roles and preferences are
    If-Match tokens that do not cover a deploy's change of shape: those stay 200."""
    headers = _Headers(response)
    vary = headers.get("vary")
    if not vary or VARY.lower() not in vary.lower():
        headers.set("Vary", f"{vary}, {VARY}" if vary else VARY)
    if event.get("httpMethod") != "GET" or response.get("statusCode") != 200:
        return response
    if not _caller(event):  # a public route (the unsubscribe page, health): kept nowhere
        return response
    if PROBLEM_CONTENT_TYPE in (headers.get("content-type") or ""):
        return response
    if headers.get("etag") is not None or "no-store" in (headers.get("cache-control") or ""):
        return response
    etag = strong_etag("body", *_request(event), str(response.get("body") or ""))
    headers.set("ETag", etag)
    if matches(_header(event.get("headers"), "if-none-match"), etag):
        response["statusCode"] = 304
        response["body"] = ""
        response["isBase64Encoded"] = False
        headers.remove("Content-Type")  # a 304 has no content to describe
    return response
