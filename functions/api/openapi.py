"""The OpenAPI 3 document, built from the routes themselves (``python -m api.openapi``)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

DESCRIPTION = """Tally's billing API. Every route needs a Cognito ID token in `Authorization`.
A user sees and changes only their own data; members of the `admins` group see everyone's.
Amounts are decimal strings with a currency. Errors are RFC 9457 `application/problem+json`.
List endpoints take `limit` (1-100) and return an opaque `nextToken`, valid only for the
caller and listing it came from."""


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import (
        APIKey,
        APIKeyIn,
        Server,
    )

    from api.handler import app

    raw = app.get_openapi_json_schema(
        title="Tally API",
        version="1.0.0",
        description=DESCRIPTION,
        servers=[Server(url="/")],
        security_schemes={
            "cognitoIdToken": APIKey(name="Authorization", in_=APIKeyIn.header),
        },
        security=[{"cognitoIdToken": []}],
    )
    return json.loads(raw)


if __name__ == "__main__":
    print(json.dumps(document(), indent=2, sort_keys=True))
