"""Invoice templates through the API (moto): create, read, a new version per PUT, 409 on a
stale version, 422 naming the field for text that tries to be code (and nothing saved), the
preview as a PDF of sample data, and finance may edit them."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from pypdf import PdfReader

from tally.identity import Role
from tally.models import UserProfile
from tests.api.events import rest_event
from tests.api.test_roles import FIONA, give
from tests.conftest import ADMIN
from tests.harness import Api, LambdaContext


@pytest.fixture(autouse=True)
def rate_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview limit's (real-time) clock, pinned."""
    from tally import ratelimit
    from tests.conftest import NOW

    monkeypatch.setattr(ratelimit, "system_now", lambda: NOW)


TEMPLATE = {
    "name": "Acme",
    "language": "de",
    "colours": {"accent": "#0b6e4f"},
    "header": "Rechnung {{ number }} für {{ subject }}",
    "footer": "Acme GmbH",
    "terms": "Zahlbar in 30 Tagen.",
    "numberPrefix": "ACME-",
    "columns": ["service", "amount"],
}


def test_versions_conflicts_and_reads(api: Api) -> None:
    made = api.call("POST", "/api/invoice-templates", ADMIN, body=TEMPLATE)
    assert made.status == 201, made.body
    assert (made.body["templateId"], made.body["version"]) == ("org", 1)
    again = api.call("POST", "/api/invoice-templates", ADMIN, body=TEMPLATE)
    assert again.status == 409
    changed = api.call(
        "PUT", "/api/invoice-templates/org", ADMIN, body={**TEMPLATE, "name": "B", "version": 1}
    )
    assert changed.status == 200 and changed.body["version"] == 2
    stale = api.call(
        "PUT", "/api/invoice-templates/org", ADMIN, body={**TEMPLATE, "name": "C", "version": 1}
    )
    assert stale.status == 409 and stale.problem["status"] == 409
    assert api.call("GET", "/api/invoice-templates/org", ADMIN).body["name"] == "B"
    assert api.call("GET", "/api/invoice-templates/org?version=1", ADMIN).body["name"] == "Acme"
    listed = api.call("GET", "/api/invoice-templates", ADMIN).body["items"]
    assert [(t["templateId"], t["version"], t["hasLogo"]) for t in listed] == [("org", 2, False)]
    assert api.call("GET", "/api/invoice-templates/team-none", ADMIN).status == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("terms", "{{ ''.__class__.__mro__ }}"),
        ("header", "{% include '/etc/passwd' %}"),
        ("footer", "{{ settings }}"),
        ("terms", "{% for i in range(10**9) %}x{% endfor %}"),
        ("header", "{{ stores.users.get('u-bob').email }}"),
        ("colours", {"accent": "javascript:alert(1)"}),
        ("logo", base64.b64encode(b"<svg/onload=alert(1)>").decode()),
    ],
)
def test_code_in_a_template_is_422_on_its_field_and_saves_nothing(
    api: Api, field: str, value: Any
) -> None:
    assert api.call("POST", "/api/invoice-templates", ADMIN, body=TEMPLATE).status == 201
    reply = api.call(
        "PUT", "/api/invoice-templates/org", ADMIN, body={**TEMPLATE, field: value, "version": 1}
    )
    assert reply.status == 422, reply.body
    assert [e["field"].split(".")[0] for e in reply.problem["errors"]] == [field]
    assert api.call("GET", "/api/invoice-templates/org", ADMIN).body["version"] == 1
    preview = api.call(
        "POST", "/api/invoice-templates/org/preview", ADMIN, body={**TEMPLATE, field: value}
    )
    assert preview.status == 422


def _preview(body: dict[str, Any] | None, url: str = "/api/invoice-templates/org/preview") -> Any:
    from api.handler import lambda_handler

    event = rest_event("POST", url, caller=ADMIN, body=body, headers={"Accept": "application/pdf"})
    return lambda_handler(event, LambdaContext())


def test_the_preview_is_a_pdf_of_sample_data(api: Api) -> None:
    out = _preview(TEMPLATE)  # a draft: the scope need not have a template yet
    assert out["statusCode"] == 200
    headers = {k: v[-1] for k, v in (out.get("multiValueHeaders") or {}).items()}
    assert {**headers, **(out.get("headers") or {})}["Content-Type"] == "application/pdf"
    assert out["isBase64Encoded"] is True
    pdf = base64.b64decode(out["body"])
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Rechnung SAMPLE-00001 für Sample Person" in text
    assert _preview(None)["statusCode"] == 404  # no saved template to preview
    api.call("POST", "/api/invoice-templates", ADMIN, body=TEMPLATE)
    assert _preview(None)["statusCode"] == 200


def test_finance_edits_templates(api: Api) -> None:
    api.stores.users.put(UserProfile(FIONA.user_id, FIONA.username, FIONA.email, Role.USER))
    give(api, FIONA.user_id, ("finance", "org"))
    assert api.call("GET", "/api/invoice-templates", FIONA).status == 200
    assert api.call("POST", "/api/invoice-templates", FIONA, body=TEMPLATE).status == 201


def test_previews_are_rate_limited(api: Api) -> None:
    from api.routes.invoice_templates import PREVIEW_LIMIT

    for _ in range(PREVIEW_LIMIT.burst):
        assert _preview(TEMPLATE)["statusCode"] == 200
    refused = _preview(TEMPLATE)
    assert refused["statusCode"] == 429
    headers = {k: v[-1] for k, v in (refused.get("multiValueHeaders") or {}).items()}
    assert int({**headers, **(refused.get("headers") or {})}["Retry-After"]) > 0
