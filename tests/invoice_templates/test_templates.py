"""Invoice templates in the domain: what a save accepts (422 naming the field otherwise),
versions, the numbering scheme, and the acceptance line: an invoice rendered with version 1,
the template edited, the same invoice re-rendered gives the same PDF text."""

from __future__ import annotations

import base64
import io
from dataclasses import replace
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from tally.errors import Conflict, Invalid, NotFound
from tally.invoice_templates import service
from tally.invoice_templates.model import LOGO_MAX_BYTES
from tally.invoices import Invoice, InvoiceOrg, build_invoice, issue, render_pdf
from tally.models import AuditEntry, Metric
from tally.org.model import Team
from tally.store import Stores
from tally.view import View
from tests.conftest import ADMIN
from tests.invoice_samples import MONTH, NOW, TODAY, USER, sample_stores


def png(width: int = 24, height: int = 12) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (36, 87, 197)).save(out, "PNG")
    return out.getvalue()


def draft(**changes: object) -> service.TemplateDraft:
    base = service.TemplateDraft(
        name="Acme",
        language="en",
        colours={"accent": "#0B6E4F"},
        header="Invoice {{ number }} for {{ subject }}",
        footer="Acme Ltd · 1 Example Street",
        terms="Payable within 30 days of {{ issued }}.",
        number_prefix="ACME-",
        columns=["service", "resource", "amount"],
        logo=base64.b64encode(png()).decode(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def view(stores: Stores) -> View:
    return View(ADMIN, stores, TODAY)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": " "}, "name"),
        ({"language": "es"}, "language"),
        ({"colours": {"accent": "red"}}, "colours.accent"),
        ({"colours": {"accent": "#12345"}}, "colours.accent"),
        ({"colours": {"background": "#123456"}}, "colours.background"),
        ({"columns": ["service", "resource"]}, "columns"),  # no amount
        ({"columns": ["amount"]}, "columns"),  # nothing beside it
        ({"columns": ["amount", "colour"]}, "columns"),
        ({"columns": ["amount", "unit", "unit"]}, "columns"),
        ({"number_prefix": "acme"}, "numberPrefix"),
        ({"number_prefix": "A" * 13}, "numberPrefix"),
        ({"header": "{{ settings }}"}, "header"),
        ({"footer": "x" * 301}, "footer"),
        ({"terms": "{% include '/etc/passwd' %}"}, "terms"),
        ({"logo": "not base64!"}, "logo"),
        ({"logo": base64.b64encode(b"GIF89a" + b"\x00" * 20).decode()}, "logo"),
        ({"logo": base64.b64encode(b"<svg onload=alert(1)>").decode()}, "logo"),
        # A PNG signature in front of something that is no image.
        ({"logo": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"junk" * 10).decode()}, "logo"),
        ({"logo": base64.b64encode(b"\xff\xd8\xff" + b"\x00" * (LOGO_MAX_BYTES)).decode()}, "logo"),
    ],
)
def test_an_invalid_field_is_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as refused:
        service.check_draft(draft(**changes))
    assert [e.field for e in refused.value.errors] == [field]


def test_a_valid_draft_is_kept_as_content() -> None:
    content = service.check_draft(draft(columns=["amount", "service"]))
    assert content.columns == ("service", "amount")  # the layout's order
    assert content.colours == {"accent": "#0b6e4f"}
    assert content.logo is not None and content.logo.media_type == "image/png"


def test_every_save_is_a_new_version_and_a_stale_one_is_refused() -> None:
    stores = sample_stores()
    made = service.create_template(view(stores), None, draft(), clock=lambda: NOW)
    assert (made.template_id, made.version) == ("org", 1)
    with pytest.raises(Conflict):
        service.create_template(view(stores), None, draft(), clock=lambda: NOW)
    second = service.update_template(
        view(stores), "org", draft(name="Acme 2"), expected_version=1, clock=lambda: NOW
    )
    assert second.version == 2
    with pytest.raises(Conflict):  # an editor who read version 1
        service.update_template(view(stores), "org", draft(name="late"), expected_version=1)
    assert service.get_template(view(stores), "org").content.name == "Acme 2"
    assert service.get_template(view(stores), "org", 1).content.name == "Acme"
    with pytest.raises(NotFound):
        service.update_template(view(stores), "team-none", draft(), expected_version=1)
    actions = [e.action for e in stores.audit.list_all(10).items]  # type: ignore[attr-defined]
    assert actions.count("invoice-template.created") == 1
    assert actions.count("invoice-template.changed") == 1


def test_an_invalid_save_changes_nothing() -> None:
    stores = sample_stores()
    service.create_template(view(stores), None, draft(), clock=lambda: NOW)
    with pytest.raises(Invalid):
        service.update_template(
            view(stores), "org", draft(terms="{{ config }}"), expected_version=1
        )
    assert service.get_template(view(stores), "org").version == 1


def test_a_team_template_needs_the_team() -> None:
    stores = sample_stores()
    with pytest.raises(Invalid) as refused:
        service.create_template(view(stores), "nope", draft())
    assert [e.field for e in refused.value.errors] == ["teamId"]


def _invoice(stores: Stores, *, today: date = TODAY) -> tuple[Invoice, bytes]:
    invoice = build_invoice(
        stores,
        user_id=USER.user_id,
        cost_center=None,
        month=MONTH,
        metric=Metric.EFFECTIVE,
        today=today,
        now=NOW,
        org=InvoiceOrg("Example Corp"),
    )
    issued = issue(
        stores.invoice_numbers, invoice, now=NOW, template=service.choice_for(stores, invoice)
    )
    return issued, render_pdf(issued, style=service.style_for(stores, issued))


def test_the_same_invoice_re_rendered_after_an_edit_reads_the_same() -> None:
    # Given an invoice rendered with version 1 of the organisation's template
    stores = sample_stores()
    service.create_template(view(stores), None, draft(), clock=lambda: NOW)
    first, first_pdf = _invoice(stores)
    assert (first.template_id, first.template_version) == ("org", 1)
    assert first.number == "ACME-2026-00001"
    text = pdf_text(first_pdf)
    assert "Invoice ACME-2026-00001 for priya.raman" in text
    assert "Payable within 30 days of 2026-11-20." in text
    assert "Acme Ltd · 1 Example Street" in text
    # When the template is edited (texts, language, columns, prefix) and the invoice re-made
    service.update_template(
        view(stores),
        "org",
        draft(
            language="de",
            header="Rechnung {{ number }}",
            terms="Sofort zahlbar.",
            number_prefix="NEW-",
            columns=["service", "unit", "amount"],
        ),
        expected_version=1,
    )
    again, again_pdf = _invoice(stores)
    # Then it is the same document: same number, same version, same text
    assert (again.number, again.template_version) == (first.number, 1)
    assert pdf_text(again_pdf) == text


def test_a_restatement_renders_with_the_edited_version_and_keeps_its_number_base() -> None:
    stores = sample_stores(TODAY - timedelta(days=2))
    service.create_template(view(stores), None, draft(), clock=lambda: NOW)
    _invoice(stores)
    service.update_template(
        view(stores), "org", draft(language="fr", number_prefix="NEW-"), expected_version=1
    )
    # A day more of costs: new content, a new revision.
    more = sample_stores(TODAY - timedelta(days=1))
    stores = replace(stores, costs=more.costs, rollups=more.rollups)
    second, second_pdf = _invoice(stores)
    assert second.revision == 2 and second.number == "ACME-2026-00001-R2"
    assert second.template_version == 2
    assert "Facture" in pdf_text(second_pdf)


def test_an_invoice_without_a_template_is_numbered_and_rendered_as_before() -> None:
    stores = sample_stores()
    invoice, pdf = _invoice(stores)
    assert invoice.template_id is None and invoice.number and invoice.number.startswith("INV-")
    assert pdf_text(pdf) == pdf_text(render_pdf(invoice))


def test_a_team_template_wins_for_its_members() -> None:
    stores = sample_stores()
    snapshot = stores.access.snapshot()
    at = NOW
    stores.access.save_team(
        Team("data", "Data", members=frozenset({USER.user_id})),
        previous=None,
        snapshot=snapshot,
        audit=AuditEntry("team:data", at, "u-admin", "team.created", "data", {}),
    )
    service.create_template(view(stores), None, draft(), clock=lambda: NOW)
    service.create_template(view(stores), "data", draft(number_prefix="DATA-"), clock=lambda: NOW)
    invoice, _ = _invoice(stores)
    assert invoice.template_id == "team-data" and invoice.number == "DATA-2026-00001"


def test_the_preview_is_a_sample_never_anyones_data() -> None:
    content = service.check_draft(draft(language="fr"))
    text = pdf_text(service.preview_pdf(content, org=InvoiceOrg("Acme"), today=TODAY))
    assert "Sample Person" in text and "Facture" in text
    assert USER.username not in text
