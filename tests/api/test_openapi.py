"""The committed API documents match the code (regenerate with ``make docs``)."""

from __future__ import annotations

from pathlib import Path

from api.openapi import render_json, render_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_committed_openapi_json_is_current() -> None:
    assert (DOCS / "openapi.json").read_text() == render_json(), "run `make docs`"


def test_committed_api_reference_is_current() -> None:
    assert (DOCS / "api.md").read_text() == render_markdown(), "run `make docs`"


def test_every_operation_documents_its_problems() -> None:
    from api.openapi import document

    public = []
    for path, ops in document()["paths"].items():
        for method, op in ops.items():
            assert "422" in op["responses"], (method, path)
            assert "application/problem+json" in op["responses"]["422"]["content"]
            if op.get("security") == [{}]:  # no sign-in: never a 401
                assert "401" not in op["responses"], (method, path)
                public.append((method.upper(), path))
                continue
            assert "401" in op["responses"], (method, path)
            assert "application/problem+json" in op["responses"]["401"]["content"]
    # Only the digest's unsubscribe link, the uptime check and the payment provider's webhook
    # are public (api.handler.PUBLIC_PATHS).
    assert sorted(public) == [
        ("GET", "/api/health"),
        ("GET", "/api/unsubscribe"),
        ("POST", "/api/payments/stripe/webhook"),
        ("POST", "/api/unsubscribe"),
    ]
