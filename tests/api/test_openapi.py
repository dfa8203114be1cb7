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

    for path, ops in document()["paths"].items():
        for method, op in ops.items():
            assert {"401", "422"} <= set(op["responses"]), (method, path)
            assert "application/problem+json" in op["responses"]["401"]["content"]
