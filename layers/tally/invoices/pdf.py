"""Renders an ``Invoice`` as a PDF (fpdf2), laid out by ``templates/invoice/layout.json``.

fpdf2 is imported on the first render only: the API imports ``tally.invoices`` (to validate a
request) without paying for it. The layout folder is ``TALLY_INVOICE_TEMPLATES_DIR``, else the
repository's ``templates/invoice``, found from this file as the email templates are: three
folders up from ``layers/tally/invoices/`` is the repository, and from
``/opt/python/tally/invoices/`` in the Lambda layer it is ``/opt`` (the shared layer carries
the folder as ``templates/invoice``).

Fonts: DejaVu Sans, with Droid Sans Fallback (CJK) and Symbola (symbols, emoji) behind it for
the characters DejaVu lacks. The fallbacks are large, so they are loaded only when the
invoice's text needs them.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tally.calendar import period_name
from tally.email.formatting import format_money
from tally.invoices.model import CurrencySection, Invoice, InvoiceLine, InvoiceOrg
from tally.invoices.style import LOGO, TEXTS, InvoiceStyle
from tally.models import Metric
from tally.settings import ConfigurationError

if TYPE_CHECKING:
    from fpdf import FPDF

LAYOUT_VARIABLE = "TALLY_INVOICE_TEMPLATES_DIR"
DEFAULT_LAYOUT_DIR = Path(__file__).resolve().parents[3] / "templates" / "invoice"
REGULAR, FALLBACK_PREFIX = "body", "fallback"
_QUANTITY = Decimal("0.0001")


def invoice_templates_dir(environ: os._Environ[str] | dict[str, str] | None = None) -> Path:
    """Where the invoice layout is: ``TALLY_INVOICE_TEMPLATES_DIR``, else the repository's."""
    raw = (environ if environ is not None else os.environ).get(LAYOUT_VARIABLE, "").strip()
    return Path(raw) if raw else DEFAULT_LAYOUT_DIR


@dataclass(frozen=True)
class Layout:
    directory: Path
    raw: dict[str, Any]

    def colour(self, name: str) -> tuple[int, int, int]:
        value = self.raw["colours"][name].lstrip("#")
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)

    def label(self, name: str, **values: str) -> str:
        return str(self.raw["labels"][name]).format(**values)

    def size(self, name: str) -> float:
        return float(self.raw["sizes"][name])

    def font(self, name: str) -> Path:
        return self.directory / self.raw["fonts"][name]


@lru_cache(maxsize=4)
def load_layout(directory: str) -> Layout:
    path = Path(directory, "layout.json")
    if not path.is_file():
        raise ConfigurationError(
            f"no invoice layout in {directory}: set {LAYOUT_VARIABLE} to templates/invoice"
        )
    return Layout(Path(directory), json.loads(path.read_text(encoding="utf-8")))


def format_quantity(quantity: Decimal) -> str:
    """``1,234.5``: at most four decimals, no trailing zeros."""
    value = quantity.quantize(_QUANTITY).normalize()
    text = f"{value:,f}"
    return "0" if text in ("-0", "0") else text


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def period_label(month: str) -> str:
    """``November 2026``; with other billing periods, their days too (``period_name``)."""
    return period_name(month)


def render_pdf(
    invoice: Invoice, *, layout_dir: Path | None = None, style: InvoiceStyle | None = None
) -> bytes:
    """The invoice as a PDF document; ``style``: its template's (none: the layout alone)."""
    layout = load_layout(str(layout_dir or invoice_templates_dir()))
    if style is not None:
        layout = style.apply(layout)
    pdf = _document(invoice, layout)
    pdf.add_page()
    _heading(pdf, invoice, layout)
    _template_text(pdf, layout, "header")
    if not invoice.sections:
        pdf.set_font(REGULAR, "", layout.size("body"))
        pdf.cell(0, 8, layout.label("no_costs"), new_x="LMARGIN", new_y="NEXT")
    for section in invoice.sections:
        _section(pdf, invoice, section, layout)
    if _text_of(layout, "terms"):
        pdf.set_font(REGULAR, "B", layout.size("body"))
        pdf.set_text_color(*layout.colour("text"))
        pdf.cell(0, 6, layout.label("terms"), new_x="LMARGIN", new_y="NEXT")
        _template_text(pdf, layout, "terms")
    return bytes(pdf.output())


def _text_of(layout: Layout, name: str) -> str:
    return str(layout.raw.get(TEXTS, {}).get(name) or "")


def _template_text(pdf: FPDF, layout: Layout, name: str) -> None:
    """A template's own text (header, terms), as rendered from its placeholders."""
    text = _text_of(layout, name)
    if text:
        pdf.set_font(REGULAR, "", layout.size("body"))
        pdf.set_text_color(*layout.colour("text"))
        pdf.multi_cell(0, layout.raw["line_height"], text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)


def _texts(invoice: Invoice, layout: Layout) -> str:
    """Every string the document may print, to know which fallback fonts it needs."""
    words = [invoice.org.name, invoice.subject.name, invoice.subject.email or ""]
    words += [str(v) for v in layout.raw["labels"].values()]
    words += [str(v) for v in layout.raw.get(TEXTS, {}).values()]
    words += [c["title"] for c in layout.raw["columns"]]
    for line in invoice.lines:
        words += [line.service, line.resource_id or "", line.usage_unit or "", line.user or ""]
        words.append(line.resource_name or "")
        words.append(line.charge_category)
    from tally.tax.pdf import words as tax_words

    words += [tax_words(section.tax) for section in invoice.sections]
    return "".join(words)


def _document(invoice: Invoice, layout: Layout) -> FPDF:
    from fpdf import FPDF

    org = invoice.org
    if org.logo is not None and not org.logo.is_file():
        raise ConfigurationError(f"TALLY_ORG_LOGO names no file: {org.logo}")

    class InvoicePDF(FPDF):
        def header(self) -> None:
            if self.page_no() > 1:
                self.set_font(REGULAR, "", layout.size("small"))
                self.set_text_color(*layout.colour("muted"))
                text = layout.label("continued", org=org.name, number=invoice.number or "")
                self.cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
                self.ln(2)

        def footer(self) -> None:
            if invoice.provisional:
                # Last on the page and translucent: over the table's fills, under nothing.
                _watermark(self, layout)
            self.set_y(-layout.raw["margins"]["bottom"] + 4)
            self.set_font(REGULAR, "", layout.size("small"))
            self.set_text_color(*layout.colour("muted"))
            left = invoice.number or ""
            if invoice.provisional:
                left = f"{left}  ·  {layout.label('provisional_mark')}".strip(" ·")
            footer_text = _text_of(layout, "footer")
            if footer_text:
                # A template's footer above the number line, on every page (its style makes
                # the bottom margin room for it).
                self.multi_cell(0, 3.2, footer_text, align="C", new_x="LMARGIN", new_y="NEXT")
            self.cell(self.epw / 2, 5, left)
            pages = layout.label("page", page=str(self.page_no()), pages="{nb}")
            self.cell(self.epw / 2, 5, pages, align="R")

    page = layout.raw["page"]
    margins = layout.raw["margins"]
    pdf = InvoicePDF(orientation=page["orientation"], unit="mm", format=page["format"])
    pdf.set_margins(margins["left"], margins["top"], margins["right"])
    pdf.set_auto_page_break(True, margin=margins["bottom"])
    pdf.set_title(f"{layout.label('title')} {invoice.number or ''}".strip())
    pdf.set_author(org.name)
    pdf.set_creator("Tally")
    add_fonts(pdf, layout, _texts(invoice, layout))
    return pdf


def add_fonts(pdf: FPDF, layout: Layout, text: str) -> None:
    """The layout's regular and bold faces, then only the fallback fonts (in the layout's
    order) needed for the characters of ``text`` the regular face has no glyph for: each is
    megabytes, and a document embeds what it registers."""
    pdf.add_font(REGULAR, "", str(layout.font("regular")))
    pdf.add_font(REGULAR, "B", str(layout.font("bold")))
    missing = set(text) - _covered(pdf, REGULAR)
    fallbacks = []
    for n, path in enumerate(layout.raw["fonts"]["fallbacks"]):
        if not missing:
            break
        name = f"{FALLBACK_PREFIX}{n}"
        pdf.add_font(name, "", str(layout.directory / path))
        fallbacks.append(name)
        missing -= _covered(pdf, name)
    if fallbacks:
        # The fallbacks have no bold: a bold heading with a CJK name borrows the regular face.
        pdf.set_fallback_fonts(fallbacks, exact_match=False)


def _covered(pdf: FPDF, font: str) -> set[str]:
    """The characters a TrueType font added to ``pdf`` has glyphs for."""
    return set(map(chr, pdf.fonts[font].cmap))  # type: ignore[union-attr]


def _watermark(pdf: FPDF, layout: Layout) -> None:
    with pdf.local_context(fill_opacity=layout.raw["watermark_opacity"]):
        pdf.set_font(REGULAR, "B", layout.size("watermark"))
        pdf.set_text_color(*layout.colour("watermark"))
        text = layout.label("provisional_mark")
        width = pdf.get_string_width(text)
        x, y = pdf.w / 2, pdf.h / 2
        with pdf.rotation(45, x=x, y=y):
            pdf.text(x - width / 2, y + layout.size("watermark") * 0.35 / 2, text)


def letterhead(
    pdf: FPDF,
    org: InvoiceOrg,
    layout: Layout,
    *,
    title: str,
    provisional: bool,
    logo: bytes | None = None,
) -> None:
    """The organisation (logo, name) on the left, the document's title (and the PROVISIONAL
    mark) right-aligned at the top: every Tally PDF opens with it (invoices, chargeback
    statements). ``logo``: a template's (PNG or JPEG bytes), instead of the org's file."""
    top = pdf.get_y()
    image: Any = io.BytesIO(logo) if logo else (str(org.logo) if org.logo else None)
    if image is not None:
        pdf.image(image, x=pdf.l_margin, y=top, h=layout.raw["logo_height"])
        pdf.set_y(top + layout.raw["logo_height"] + 2)
    pdf.set_font(REGULAR, "B", layout.size("org"))
    pdf.set_text_color(*layout.colour("accent"))
    pdf.cell(0, 7, org.name, new_x="LMARGIN", new_y="NEXT")
    after_org = pdf.get_y()
    pdf.set_xy(pdf.l_margin, top)
    pdf.set_font(REGULAR, "B", layout.size("title"))
    pdf.set_text_color(*layout.colour("text"))
    pdf.cell(0, 10, title, align="R", new_x="LMARGIN", new_y="NEXT")
    if provisional:
        pdf.set_font(REGULAR, "B", layout.size("body"))
        pdf.set_text_color(*layout.colour("provisional"))
        pdf.cell(0, 5, layout.label("provisional_mark"), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(after_org, pdf.get_y()) + 4)


def _heading(pdf: FPDF, invoice: Invoice, layout: Layout) -> None:
    subject = invoice.subject
    text, muted = layout.colour("text"), layout.colour("muted")
    letterhead(
        pdf,
        invoice.org,
        layout,
        title=layout.label("title"),
        provisional=invoice.provisional,
        logo=layout.raw.get(LOGO),
    )

    metric = "metric_effective" if invoice.metric is Metric.EFFECTIVE else "metric_billed"
    period = f"{invoice.period_start.day} \N{EN DASH} {_day(invoice.period_end)}"
    facts = [
        (layout.label("number"), invoice.number or "\N{EM DASH}"),
        (layout.label("issued"), _day(invoice.issued_on)),
        (layout.label("period"), period),
        (layout.label("metric"), layout.label(metric)),
    ]
    bill_to = [subject.name, *([subject.email] if subject.email else [])]
    if subject.kind == "cost-center":
        bill_to = [f"{layout.label('cost_center')}: {subject.name}"]
    line = layout.raw["line_height"]
    half = pdf.epw / 2
    y = pdf.get_y()
    pdf.set_font(REGULAR, "B", layout.size("small"))
    pdf.set_text_color(*muted)
    pdf.cell(half, line, layout.label("bill_to").upper(), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*text)
    for n, value in enumerate(bill_to):
        pdf.set_font(REGULAR, "B" if n == 0 else "", layout.size("body"))
        pdf.multi_cell(half - 4, line + 0.6, value, new_x="LMARGIN", new_y="NEXT")
    left_end = pdf.get_y()
    pdf.set_y(y)
    for label, value in facts:
        pdf.set_x(pdf.l_margin + half)
        pdf.set_font(REGULAR, "", layout.size("body"))
        pdf.set_text_color(*muted)
        pdf.cell(half * 0.38, line + 0.6, label)
        pdf.set_text_color(*text)
        pdf.set_font(REGULAR, "B", layout.size("body"))
        pdf.cell(half * 0.62, line + 0.6, value, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_end, pdf.get_y()) + 3)
    pdf.set_font(REGULAR, "", layout.size("small"))
    if invoice.provisional:
        pdf.set_text_color(*layout.colour("provisional"))
        note = layout.label("provisional_note")
    else:
        pdf.set_text_color(*muted)
        note = layout.label("final_note")
    pdf.multi_cell(0, line, note, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _section(pdf: FPDF, invoice: Invoice, section: CurrencySection, layout: Layout) -> None:
    from fpdf.fonts import FontFace

    currency = section.currency
    columns = layout.raw["columns"]
    text, muted = layout.colour("text"), layout.colour("muted")
    money = lambda amount: format_money(amount, currency)  # noqa: E731
    pdf.set_text_color(*text)
    if len(invoice.sections) > 1:
        pdf.set_font(REGULAR, "B", layout.size("body"))
        pdf.cell(
            0, 7, layout.label("currency_section", currency=currency), new_x="LMARGIN", new_y="NEXT"
        )
    pdf.set_font(REGULAR, "", layout.size("table"))
    bold = FontFace(emphasis="BOLD", color=text, fill_color=layout.colour("subtotal_fill"))
    heading = FontFace(emphasis="BOLD", color=text, fill_color=layout.colour("heading_fill"))
    total_style = FontFace(emphasis="BOLD", color=text, fill_color=layout.colour("total_fill"))
    span = len(columns) - 1
    with pdf.table(
        col_widths=tuple(c["width"] for c in columns),
        text_align=tuple(c["align"] for c in columns),
        headings_style=heading,
        borders_layout="HORIZONTAL_LINES",
        line_height=layout.raw["line_height"],
        padding=(1.2, 1.5),
        repeat_headings=1,  # on every page
        width=pdf.epw,
    ) as table:
        pdf.set_draw_color(*layout.colour("rule"))
        head = table.row()
        for column in columns:
            head.cell(column["title"])
        for group in section.services:
            for item in group.lines:
                _line_row(table, item, layout, money(item.amount), item.service, columns)
            row = table.row(style=bold)
            row.cell(layout.label("subtotal", service=group.service), colspan=span, align="R")
            row.cell(money(group.subtotal), align="R")
        if section.charges:
            row = table.row(style=bold)
            row.cell(layout.label("usage_total"), colspan=span, align="R")
            row.cell(money(section.usage_total), align="R")
            row = table.row(style=FontFace(emphasis="BOLD", color=muted))
            row.cell(layout.label("charges"), colspan=span + 1, align="L")
            categories = layout.raw["labels"]["categories"]
            for item in section.charges:
                kind = categories.get(item.charge_category, item.charge_category)
                label = f"{kind} · {item.service}"
                _line_row(table, item, layout, money(item.amount), label, columns)
        row = table.row(style=total_style)
        row.cell(f"{layout.label('total')} ({currency})", colspan=span, align="R")
        row.cell(money(section.total), align="R")
    if section.tax is not None:
        from tally.tax.pdf import render_breakdown

        render_breakdown(pdf, section.tax, layout, REGULAR)
    if section.budget is not None and section.variance is not None:
        _budget(pdf, invoice, section, layout, money)
    pdf.ln(4)


def _line_row(
    table: Any,
    item: InvoiceLine,
    layout: Layout,
    amount: str,
    service: str,
    columns: list[dict[str, Any]],
) -> None:
    resource = item.resource_id or layout.label("no_resource")
    if item.resource_id and item.resource_name and item.resource_name != item.resource_id:
        # The name people know first; the id under it, for whoever must find the resource.
        resource = f"{item.resource_name}\n{item.resource_id}"
    if item.user:
        resource = f"{resource} ({item.user})"
    quantity = (
        format_quantity(item.usage_quantity) if item.usage_unit or item.usage_quantity else ""
    )
    cells = {
        "service": service,
        "resource": resource,
        "quantity": quantity,
        "unit": item.usage_unit or "",
        "amount": amount,
    }
    row = table.row()
    for column in columns:  # the layout's, or the ones a template keeps
        row.cell(cells[column["key"]])


def _budget(
    pdf: FPDF, invoice: Invoice, section: CurrencySection, layout: Layout, money: Any
) -> None:
    assert section.budget is not None and section.variance is not None
    line = layout.raw["line_height"] + 1
    over = section.variance < 0
    pdf.ln(2)
    rows = [
        (layout.label("budget", period=period_label(invoice.month)), money(section.budget), False),
        (
            layout.label("variance_over" if over else "variance_under"),
            money(abs(section.variance)),
            over,
        ),
    ]
    width = pdf.epw * 0.5
    for label, value, alarm in rows:
        pdf.set_x(pdf.l_margin + pdf.epw - width)
        pdf.set_font(REGULAR, "", layout.size("body"))
        pdf.set_text_color(*layout.colour("muted"))
        pdf.cell(width * 0.65, line, label, align="R")
        pdf.set_font(REGULAR, "B", layout.size("body"))
        pdf.set_text_color(*(layout.colour("over") if alarm else layout.colour("text")))
        pdf.cell(width * 0.35, line, value, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*layout.colour("text"))
