"""Invoice templates' use cases: list, create, read (any version), change (a new version),
preview (a sample PDF), and what an invoice is rendered with.

Who may: the routes' rule (``invoices:templates`` at the organisation) is decided before a
use case runs; a team's template needs the team to exist. Every change is audited.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from tally.clock import Clock, utc_now
from tally.errors import Invalid, NotFound
from tally.invoice_templates import labels, text
from tally.invoice_templates.model import (
    COLOURS,
    COLUMNS,
    LOGO_MAX_BYTES,
    REQUIRED_COLUMNS,
    InvoiceTemplate,
    Logo,
    TemplateContent,
    template_id_of,
)
from tally.models import AuditEntry
from tally.view import View

if TYPE_CHECKING:
    from tally.invoices.model import Invoice, InvoiceOrg
    from tally.invoices.numbering import TemplateChoice
    from tally.invoices.style import InvoiceStyle
    from tally.store import Stores

NO_SUCH_TEMPLATE = "no such invoice template"
NAME_MAX = 80
HEADER_MAX, FOOTER_MAX, TERMS_MAX = 1000, 300, 2000
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_PREFIX = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,11}$")
# Magic bytes: a logo is what its bytes say, whatever a client claims.
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


@dataclass(frozen=True)
class TemplateDraft:
    """A template's fields as a client sent them (unchecked)."""

    name: str
    language: str = "en"
    colours: Mapping[str, str] | None = None
    header: str = ""
    footer: str = ""
    terms: str = ""
    number_prefix: str | None = None
    columns: Sequence[str] | None = None
    logo: str | None = None  # base64 of a PNG or JPEG


def decode_logo(raw: str | None) -> Logo | None:
    """The logo's bytes and type (from its signature); ``Invalid`` on field ``logo``."""
    if raw is None or raw == "":
        return None
    if len(raw) > LOGO_MAX_BYTES * 4 // 3 + 4:
        raise Invalid.field("logo", f"a logo is at most {LOGO_MAX_BYTES // 1024} KiB")
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid.field("logo", "a logo is base64 of a PNG or JPEG file") from None
    if len(data) > LOGO_MAX_BYTES:
        raise Invalid.field("logo", f"a logo is at most {LOGO_MAX_BYTES // 1024} KiB")
    media = next((m for magic, m in _SIGNATURES if data.startswith(magic)), None)
    if media is None:
        raise Invalid.field("logo", "a logo is a PNG or JPEG file")
    _check_image(data)
    return Logo(data, media)


def _check_image(data: bytes) -> None:
    """The bytes decode as an image of a sane size (a PNG header can front anything)."""
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > 4_000_000:
                raise Invalid.field("logo", "a logo is at most 4 megapixels")
            image.verify()
    except Invalid:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise Invalid.field("logo", "the logo is not a readable PNG or JPEG image") from None


def check_draft(draft: TemplateDraft) -> TemplateContent:
    """The content of a valid draft; ``Invalid`` naming the first field that is not."""
    name = draft.name.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise Invalid.field("name", f"a name has 1 to {NAME_MAX} characters")
    if draft.language not in labels.LANGUAGES:
        raise Invalid.field("language", f"one of {', '.join(labels.LANGUAGES)}")
    colours = dict(draft.colours or {})
    for key, value in colours.items():
        if key not in COLOURS:
            raise Invalid.field(f"colours.{key}", f"a colour is one of {', '.join(COLOURS)}")
        if not isinstance(value, str) or not _COLOUR.fullmatch(value):
            raise Invalid.field(f"colours.{key}", "a colour is #rrggbb")
    columns = tuple(draft.columns) if draft.columns is not None else COLUMNS
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown or len(set(columns)) != len(columns):
        raise Invalid.field("columns", f"columns from {', '.join(COLUMNS)}, each once")
    if not set(columns) >= REQUIRED_COLUMNS or len(columns) < 2:
        raise Invalid.field("columns", "the amount and at least one other column")
    prefix = draft.number_prefix or None
    if prefix is not None and not _PREFIX.fullmatch(prefix):
        raise Invalid.field(
            "numberPrefix", "1 to 12 upper-case letters, digits and hyphens (e.g. ACME-)"
        )
    texts = {}
    for field, value, cap in (
        ("header", draft.header, HEADER_MAX),
        ("footer", draft.footer, FOOTER_MAX),
        ("terms", draft.terms, TERMS_MAX),
    ):
        if len(value) > cap:
            raise Invalid.field(field, f"at most {cap} characters")
        texts[field] = text.check(field, value.strip())
    return TemplateContent(
        name=name,
        language=draft.language,
        colours={k: v.lower() for k, v in sorted(colours.items())},
        header=texts["header"],
        footer=texts["footer"],
        terms=texts["terms"],
        number_prefix=prefix,
        # The layout's order, whatever order they were sent in.
        columns=tuple(c for c in COLUMNS if c in columns),
        logo=decode_logo(draft.logo),
    )


def _audit(view: View, template: InvoiceTemplate, action: str, now: datetime) -> AuditEntry:
    return AuditEntry(
        subject_user_id=f"invoice-template:{template.template_id}",
        at=now,
        actor=view.caller.user_id,
        action=action,
        entity_id=template.template_id,
        details={"version": str(template.version), "name": template.content.name},
    )


def list_templates(view: View) -> list[InvoiceTemplate]:
    """Every template's latest version: the organisation's first, then the teams' by id."""
    found = view.stores.invoice_templates.latest()
    return sorted(found, key=lambda t: (t.team_id is not None, t.template_id))


def create_template(
    view: View, team_id: str | None, draft: TemplateDraft, *, clock: Clock = utc_now
) -> InvoiceTemplate:
    """Version 1 of the organisation's (``team_id`` None) or a team's template; ``Conflict``
    when that scope has one."""
    if team_id is not None and view.stores.access.get_team(team_id) is None:
        raise Invalid.field("teamId", "no such team")
    now = clock()
    made = InvoiceTemplate(template_id_of(team_id), 1, check_draft(draft), now, view.caller.user_id)
    view.stores.invoice_templates.save(made, _audit(view, made, "invoice-template.created", now))
    return made


def get_template(view: View, template_id: str, version: int | None = None) -> InvoiceTemplate:
    found = view.stores.invoice_templates.get(template_id, version)
    if found is None:
        raise NotFound(NO_SUCH_TEMPLATE)
    return found


def update_template(
    view: View,
    template_id: str,
    draft: TemplateDraft,
    *,
    expected_version: int,
    clock: Clock = utc_now,
) -> InvoiceTemplate:
    """A new version, ``expected_version`` + 1, if that is still the latest (``Conflict``
    otherwise: someone saved since the caller read it). Older versions stay as they were."""
    get_template(view, template_id)
    content = check_draft(draft)
    now = clock()
    made = InvoiceTemplate(template_id, expected_version + 1, content, now, view.caller.user_id)
    view.stores.invoice_templates.save(made, _audit(view, made, "invoice-template.changed", now))
    return made


# --- rendering -------------------------------------------------------------------------


def _money(amount: Decimal, currency: str) -> str:
    from tally.email.formatting import format_money

    return format_money(amount, currency)


def invoice_fields(invoice: Invoice) -> dict[str, str]:
    """The only values a template's text may show: the invoice's own."""
    from tally.invoices.pdf import period_label

    return {
        "number": invoice.number or "",
        "period": period_label(invoice.month),
        "period_start": invoice.period_start.isoformat(),
        "period_end": invoice.period_end.isoformat(),
        "issued": invoice.issued_on.isoformat(),
        "subject": invoice.subject.name,
        "organisation": invoice.org.name,
        "totals": "; ".join(_money(s.total, s.currency) for s in invoice.sections),
        "provisional": "yes" if invoice.provisional else "",
    }


def style_of(content: TemplateContent, invoice: Invoice) -> InvoiceStyle:
    """How ``content`` renders ``invoice``: its placeholders filled from the invoice."""
    from tally.invoices.style import InvoiceStyle

    values = invoice_fields(invoice)
    return InvoiceStyle(
        colours=dict(content.colours),
        labels=labels.LABELS[content.language],
        column_titles=labels.COLUMN_TITLES[content.language],
        columns=content.columns,
        logo=content.logo.data if content.logo else None,
        header=text.render("header", content.header, values),
        footer=text.render("footer", content.footer, values),
        terms=text.render("terms", content.terms, values),
    )


def choice_for(stores: Stores, invoice: Invoice) -> TemplateChoice | None:
    """The template in force for the invoice's subject: a team's (the cost center's team, or
    the first of the user's teams, by id, that has one), else the organisation's; None when
    there is neither (the plain layout and the default numbering)."""
    from tally.invoices.numbering import TemplateChoice

    candidates: list[str] = []
    subject = invoice.subject
    if subject.kind == "cost-center":
        snapshot = stores.access.snapshot()
        candidates = sorted(
            t for t, node in snapshot.teams.items() if node.cost_center == subject.subject_id
        )
    else:
        profile = stores.access.profiles([subject.subject_id]).get(subject.subject_id)
        candidates = sorted(profile.teams) if profile else []
    for template_id in [*(template_id_of(t) for t in candidates), template_id_of(None)]:
        found = stores.invoice_templates.get(template_id)
        if found is not None:
            return TemplateChoice(found.template_id, found.version, found.content.number_prefix)
    return None


def style_for(stores: Stores, invoice: Invoice) -> InvoiceStyle | None:
    """The style of the template version ``invoice`` recorded (None: it has none)."""
    if invoice.template_id is None or invoice.template_version is None:
        return None
    found = stores.invoice_templates.get(invoice.template_id, invoice.template_version)
    return None if found is None else style_of(found.content, invoice)


def sample_invoice(org: InvoiceOrg, today: date) -> Invoice:
    """A made-up invoice (no stored data): what a preview renders."""
    from tally.invoices.model import CurrencySection, Invoice, InvoiceLine, InvoiceSubject
    from tally.invoices.model import ServiceGroup as Group
    from tally.models import Metric

    def line(service: str, resource: str, qty: str, unit: str, amount: str) -> InvoiceLine:
        return InvoiceLine(service, resource, "Usage", Decimal(qty), unit, Decimal(amount))

    compute = (line("Amazon EC2", "i-0sample1", "720", "Hrs", "612.00"),)
    storage = (line("Amazon S3", "sample-bucket", "1250", "GB-Mo", "28.75"),)
    credit = InvoiceLine("Amazon EC2", "", "Credit", Decimal(0), None, Decimal("-40.00"))
    groups = (
        Group("Amazon EC2", compute, Decimal("612.00")),
        Group("Amazon S3", storage, Decimal("28.75")),
    )
    section = CurrencySection(
        "USD",
        groups,
        (credit,),
        Decimal("640.75"),
        Decimal("600.75"),
        Decimal("700"),
        Decimal("99.25"),
    )
    return Invoice(
        org=org,
        subject=InvoiceSubject("user", "sample", "Sample Person", "sample@example.com"),
        month="2026-11",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        issued_on=today,
        generated_at=datetime(today.year, today.month, today.day),
        metric=Metric.EFFECTIVE,
        provisional=False,
        sections=(section,),
        number="SAMPLE-00001",
        revision=1,
    )


def preview_pdf(content: TemplateContent, *, org: InvoiceOrg, today: date) -> bytes:
    """A sample invoice rendered with ``content``: never anyone's data."""
    from tally.invoices.pdf import render_pdf

    invoice = sample_invoice(org, today)
    return render_pdf(invoice, style=style_of(content, invoice))
