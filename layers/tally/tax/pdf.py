"""The tax breakdown as a table in a PDF (fpdf2): one row per rate (name, jurisdiction, rate,
taxable base, tax), exempt bases with their reason, then net, tax and gross. Shared by the
invoice and the chargeback statement; labels come from the invoice layout's ``labels`` when
it names them (``tax_*``), else the English defaults here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from tally.email.formatting import format_money
from tally.tax.model import TaxBreakdown, TaxMode, Treatment

if TYPE_CHECKING:
    from fpdf import FPDF

    from tally.invoices.pdf import Layout

LABELS = {
    "tax_title": "Tax",
    "tax_rate": "Rate",
    "tax_base": "Taxable amount",
    "tax_amount": "Tax",
    "tax_exempt": "exempt",
    "tax_zero_rated": "zero-rated",
    "tax_net": "Net",
    "tax_total": "Tax",
    "tax_gross": "Total with tax",
    "tax_untaxed": "Of which under no tax rule",
    "tax_aws_kept": "AWS's own tax lines ({amount}) are kept in the net",
    "tax_aws_replaced": "AWS's own tax lines ({amount}) are replaced by this tax",
    "tax_rounding_line": "Tax rounded per line, half up",
    "tax_rounding_total": "Tax rounded per rate total, half up",
}


def label(layout: Layout, key: str, **values: str) -> str:
    text = str(layout.raw.get("labels", {}).get(key, LABELS[key]))
    return text.format(**values) if values else text


def words(breakdown: TaxBreakdown | None) -> str:
    """The text the table may print, for the fallback fonts."""
    if breakdown is None:
        return ""
    parts = [*LABELS.values()]
    for row in breakdown.rows:
        parts += [row.name, row.jurisdiction, row.reason or ""]
    return "".join(parts)


def _days(first: date, last: date) -> str:
    if first == last:
        return f"{first.day} {first:%b %Y}"
    return f"{first.day} {first:%b} \u2013 {last.day} {last:%b %Y}"


def rate_text(rate: Decimal) -> str:
    return f"{rate.normalize():f}%"


def render_breakdown(pdf: FPDF, breakdown: TaxBreakdown, layout: Layout, font: str) -> None:
    """The breakdown's table under what the page shows so far."""
    from fpdf.fonts import FontFace

    currency = breakdown.currency
    text, muted = layout.colour("text"), layout.colour("muted")
    money = lambda amount: format_money(amount, currency)  # noqa: E731
    pdf.ln(3)
    pdf.set_text_color(*text)
    pdf.set_font(font, "B", layout.size("body"))
    pdf.cell(0, 7, f"{label(layout, 'tax_title')} ({currency})", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", layout.size("table"))
    heading = FontFace(emphasis="BOLD", color=text, fill_color=layout.colour("heading_fill"))
    total_style = FontFace(emphasis="BOLD", color=text, fill_color=layout.colour("total_fill"))
    with pdf.table(
        col_widths=(50, 16, 22, 22),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=heading,
        borders_layout="HORIZONTAL_LINES",
        line_height=layout.raw["line_height"],
        padding=(1.2, 1.5),
        width=pdf.epw,
    ) as table:
        pdf.set_draw_color(*layout.colour("rule"))
        head = table.row()
        for key in ("tax_title", "tax_rate", "tax_base", "tax_amount"):
            head.cell(label(layout, key))
        names = [(row.name, row.jurisdiction) for row in breakdown.rows]
        for row in breakdown.rows:
            what = f"{row.name} {row.jurisdiction}"
            if names.count((row.name, row.jurisdiction)) > 1 and row.first_day and row.last_day:
                # one tax at two rates in the period: say which days each rate taxed
                what = f"{what} ({_days(row.first_day, row.last_day)})"
            if row.treatment is not Treatment.STANDARD:
                kind = "tax_exempt" if row.treatment is Treatment.EXEMPT else "tax_zero_rated"
                what = f"{what}, {label(layout, kind)}"
                if row.reason:
                    what = f"{what}: {row.reason}"
            cells = table.row()
            cells.cell(what)
            cells.cell("" if row.treatment is Treatment.EXEMPT else rate_text(row.rate))
            cells.cell(money(row.base))
            cells.cell(money(row.tax))
        for key, amount, style in (
            ("tax_net", breakdown.net, None),
            ("tax_total", breakdown.tax, None),
            ("tax_gross", breakdown.gross, total_style),
        ):
            cells = table.row(style=style) if style else table.row()
            cells.cell(f"{label(layout, key)} ({currency})", colspan=3, align="R")
            cells.cell(money(amount))
    notes = [
        label(
            layout,
            "tax_rounding_line" if breakdown.rounding.value == "line" else "tax_rounding_total",
        )
    ]
    if breakdown.untaxed:
        notes.append(f"{label(layout, 'tax_untaxed')}: {money(breakdown.untaxed)}")
    if breakdown.aws_tax:
        key = "tax_aws_replaced" if breakdown.mode is TaxMode.REPLACE else "tax_aws_kept"
        notes.append(label(layout, key, amount=money(breakdown.aws_tax)))
    pdf.set_font(font, "", layout.size("small"))
    pdf.set_text_color(*muted)
    pdf.multi_cell(0, layout.raw["line_height"], " · ".join(notes), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*text)
