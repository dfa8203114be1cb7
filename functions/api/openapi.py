"""The OpenAPI 3 document, built from the routes themselves (``python -m api.openapi``)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

DESCRIPTION = """Tally's billing API. Every route needs a Cognito ID token in `Authorization`,
except the digest's unsubscribe link (`/api/unsubscribe`), which its signed token authorises,
and the uptime check (`/api/health`), which returns no data. What a caller may see and change
is decided by their roles (docs/authorization.md): a member sees only their own data.
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
            "cognitoIdToken": APIKey.model_validate(
                {"name": "Authorization", "in": APIKeyIn.header}
            ),
        },
        security=[{"cognitoIdToken": []}],
    )
    doc: dict[str, Any] = json.loads(raw)
    for ops in doc["paths"].values():
        for op in ops.values():
            # Powertools documents a JSON null body for 204; there is no body at all.
            op["responses"].get("204", {}).pop("content", None)
    return doc


def render_json() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_schema_name(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list[{_schema_name(schema.get('items', {}))}]"
    return str(schema.get("type", "object"))


def render_markdown() -> str:
    """docs/api.md: the reference a person reads, generated from the same document."""
    doc = document()
    lines = [
        "# API reference",
        "",
        "Generated from the OpenAPI document (`make docs`; `docs/openapi.json` is the machine-",
        "readable form, also served at `GET /api/openapi.json`). Do not edit by hand.",
        "",
        DESCRIPTION,
        "",
    ]
    for path, ops in sorted(doc["paths"].items()):
        for method, op in sorted(ops.items()):
            lines += [f"## {method.upper()} `{path}`", "", op.get("summary", ""), ""]
            if op.get("description"):
                lines += [op["description"], ""]
            params = op.get("parameters", [])
            if params:
                lines += ["| parameter | in | type | required |", "|---|---|---|---|"]
                for p in params:
                    lines.append(
                        f"| `{p['name']}` | {p['in']} | {_schema_name(p.get('schema', {}))} "
                        f"| {'yes' if p.get('required') else 'no'} |"
                    )
                lines.append("")
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                lines += [f"Body: `{_schema_name(body['schema'])}`", ""]
            statuses = ", ".join(
                f"{code} {r.get('description', '')}".strip()
                for code, r in sorted(op["responses"].items())
            )
            lines += [f"Responses: {statuses}", ""]
    lines += ["## Schemas", ""]
    for name, schema in sorted(doc.get("components", {}).get("schemas", {}).items()):
        props = schema.get("properties", {})
        if not props:
            continue
        required = set(schema.get("required", []))
        lines += [f"### {name}", "", "| field | type | required |", "|---|---|---|"]
        for field, spec in props.items():
            lines.append(
                f"| `{field}` | {_schema_name(spec)} | {'yes' if field in required else 'no'} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(render_markdown() if sys.argv[1:] == ["--markdown"] else render_json())
