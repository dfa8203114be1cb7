"""Real API Gateway REST proxy events, with Cognito authorizer claims as API Gateway sends them."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tally.identity import Caller


def claims_of(caller: Caller) -> dict[str, str]:
    claims = {
        "sub": caller.user_id,
        "cognito:username": caller.username,
        "token_use": "id",
        "aud": "test-client",
        "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test",
    }
    if caller.email:
        claims["email"] = caller.email
    if caller.groups:
        # API Gateway flattens the list claim into one string.
        claims["cognito:groups"] = ",".join(sorted(caller.groups))
    return claims


def rest_event(
    method: str,
    url: str,
    *,
    caller: Caller | None = None,
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    hdrs = {"Content-Type": "application/json", "Host": "api.example.com", **(headers or {})}
    if raw_body is None and body is not None:
        raw_body = json.dumps(body)
    return {
        "resource": "/api/{proxy+}",
        "path": parts.path,
        "httpMethod": method,
        "headers": hdrs,
        "multiValueHeaders": {k: [v] for k, v in hdrs.items()},
        "queryStringParameters": dict(query) or None,
        "multiValueQueryStringParameters": (
            {k: [v for kk, v in query if kk == k] for k, _ in query} or None
        ),
        "pathParameters": {"proxy": parts.path.removeprefix("/api/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/api/{proxy+}",
            "httpMethod": method,
            "path": "/prod" + parts.path,
            "stage": "prod",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "203.0.113.9"},
            "authorizer": {"claims": claims_of(caller)} if caller else None,
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }
