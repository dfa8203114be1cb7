"""A chargeback statement as a PDF (fpdf2): one page per unit (a team, a department or a cost
center), with its allocated cost, its share of the shared costs and of the unallocated cost,
per currency. Built from the invoice's pieces (``tally.invoices.pdf``): the same layout file,
fonts (with the CJK and symbol fallbacks loaded only when the text needs them), colours,
header and footer, and the PROVISIONAL mark and watermark until the month is final.

fpdf2 is imported on the first render only, as for invoices.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tally.chargeback.model import Chargeback, ChargebackUnit, GroupBy, UnallocatedRule
from tally.email.formatting import format_money
from tally.invoices.model import InvoiceOrg
from tally.invoices.pdf import (
    REGULAR,
    Layout,
    _watermark,
    add_fonts,
    invoice_templates_dir,
    letterhead,
    load_layout,
    period_label,
)
from tally.models import Metric
from tally.settings import ConfigurationError
from tally.tax.pdf import words as tax_words

if TYPE_CHECKING:
    from fpdf import FPDF

LABELS = {
    "title": "Chargeback statement",
    "unit": "Unit",
    "grouping": "Grouped by",
    "period": "Month",
    "metric": "Amounts",
    "rule": "Unallocated cost",
    "people": "People",
    "item": "",
    "amount": "Amount",
    "allocated": "Allocated cost (sole owners)",
    "shared": "Share of shared costs (split assignments)",
    "unallocated": "Share of the unallocated cost",
    "total": "Total",
    "currency_section": "Amounts in {currency}",
    "no_costs": "No costs for this unit in this month.",
    "footer": "Chargeback {month} · {unit}",
}
GROUPINGS = {
    GroupBy.TEAM: "team",
    GroupBy.DEPARTMENT: "department",
    GroupBy.COST_CENTER: "cost center",
}
RULES = {
    UnallocatedRule.PROPORTIONAL: "spread in proportion to each unit's total",
    UnallocatedRule.SEPARATE: "kept apart (not charged to units)",
}


def statement_units(report: Chargeback, unit: str | None) -> list[ChargebackUnit]:
    """The units a statement covers: ``unit`` alone, or every unit of the grouping."""
    if unit is None:
        return list(report.units)
    return [u for u in report.units if u.unit_id == unit]


def render_statement(
    report: Chargeback,
    *,
    unit: str | None = None,
    org: InvoiceOrg | None = None,
    layout_dir: Path | None = None,
) -> bytes:
    """The statement of ``unit`` (or of every unit, a page each) as a PDF document."""
    layout = load_layout(str(layout_dir or invoice_templates_dir()))
    org = org or InvoiceOrg()
    units = statement_units(report, unit)
    current = {"unit": ""}  # whose page the footer is on
    pdf = _document(report, units, org, layout, current)
    for item in units:
        pdf.add_page()  # ends the previous page: its footer still names the previous unit
        current["unit"] = item.name
        _page(pdf, report, item, org, layout)
    if not units:
        pdf.add_page()
        pdf.set_font(REGULAR, "", layout.size("body"))
        pdf.cell(0, 8, LABELS["no_costs"], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _document(
    report: Chargeback,
    units: Sequence[ChargebackUnit],
    org: InvoiceOrg,
    layout: Layout,
    current: dict[str, str],
) -> FPDF:
    from fpdf import FPDF

    if org.logo is not None and not org.logo.is_file():
        raise ConfigurationError(f"TALLY_ORG_LOGO names no file: {org.logo}")
    provisional = not report.final
    mark = layout.label("provisional_mark")

    class StatementPDF(FPDF):
        def footer(self) -> None:
            if provisional:
                _watermark(self, layout)
            self.set_y(-layout.raw["margins"]["bottom"] + 4)
            self.set_font(REGULAR, "", layout.size("small"))
            self.set_text_color(*layout.colour("muted"))
            left = LABELS["footer"].format(month=report.month, unit=current["unit"])
            if provisional:
                left = f"{left}  ·  {mark}"
            self.cell(self.epw * 0.75, 5, left)
            pages = layout.label("page", page=str(self.page_no()), pages="{nb}")
            self.cell(self.epw * 0.25, 5, pages, align="R")

    page = layout.raw["page"]
    margins = layout.raw["margins"]
    pdf = StatementPDF(orientation=page["orientation"], unit="mm", format=page["format"])
    pdf.set_margins(margins["left"], margins["top"], margins["right"])
    pdf.set_auto_page_break(True, margin=margins["bottom"])
    pdf.set_title(f"{LABELS['title']} {report.month}")
    pdf.set_author(org.name)
    pdf.set_creator("Tally")
    words = [org.name, *LABELS.values(), *RULES.values(), mark]
    words += [f"{u.name}{u.unit_id}{u.parent_id or ''}{u.cost_center or ''}" for u in units]
    words += [tax_words(t) for u in units for t in u.tax.values()]
    add_fonts(pdf, layout, "".join(words))
    return pdf


def _page(
    pdf: FPDF, report: Chargeback, unit: ChargebackUnit, org: InvoiceOrg, layout: Layout
) -> None:
    text, muted = layout.colour("text"), layout.colour("muted")
    letterhead(pdf, org, layout, title=LABELS["title"], provisional=not report.final)

    metric = "metric_effective" if report.metric is Metric.EFFECTIVE else "metric_billed"
    facts = [
        (LABELS["unit"], f"{unit.name} ({unit.unit_id})"),
        (LABELS["grouping"], GROUPINGS[report.group_by]),
        (LABELS["period"], period_label(report.month)),
        (LABELS["metric"], layout.label(metric)),
        (LABELS["rule"], RULES[report.rule]),
        (LABELS["people"], str(unit.people)),
    ]
    if unit.cost_center and report.group_by is not GroupBy.COST_CENTER:
        facts.insert(1, (layout.label("cost_center"), unit.cost_center))
    line = layout.raw["line_height"] + 0.6
    for label, value in facts:
        pdf.set_font(REGULAR, "", layout.size("body"))
        pdf.set_text_color(*muted)
        pdf.cell(pdf.epw * 0.3, line, label)
        pdf.set_text_color(*text)
        pdf.set_font(REGULAR, "B", layout.size("body"))
        pdf.multi_cell(pdf.epw * 0.7, line, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(REGULAR, "", layout.size("small"))
    if report.final:
        pdf.set_text_color(*muted)
        note = layout.label("final_note")
    else:
        pdf.set_text_color(*layout.colour("provisional"))
        note = "Provisional: AWS may still revise this month's costs."
    pdf.multi_cell(0, layout.raw["line_height"], note, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    if not report.currencies:
        pdf.set_font(REGULAR, "", layout.size("body"))
        pdf.set_text_color(*text)
        pdf.cell(0, 8, LABELS["no_costs"], new_x="LMARGIN", new_y="NEXT")
    for currency in report.currencies:
        _section(pdf, unit, currency, layout, several=len(report.currencies) > 1)


def _section(
    pdf: FPDF, unit: ChargebackUnit, currency: str, layout: Layout, *, several: bool
) -> None:
    from fpdf.fonts import FontFace

    text = layout.colour("text")
    figures = unit.in_currency(currency)
    pdf.set_text_color(*text)
    if several:
        pdf.set_font(REGULAR, "B", layout.size("body"))
        title = LABELS["currency_section"].format(currency=currency)
        pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(REGULAR, "", layout.size("table"))
    heading = FontFace(emphasis="BOLD", color=text, fill_color=layout.colour("heading_fill"))
    total_style = FontFace(emphasis="BOLD", color=text, fill_color=layout.colour("total_fill"))
    with pdf.table(
        col_widths=(70, 30),
        text_align=("LEFT", "RIGHT"),
        headings_style=heading,
        borders_layout="HORIZONTAL_LINES",
        line_height=layout.raw["line_height"],
        padding=(1.2, 1.5),
        width=pdf.epw,
    ) as table:
        pdf.set_draw_color(*layout.colour("rule"))
        head = table.row()
        head.cell(LABELS["item"])
        head.cell(f"{LABELS['amount']} ({currency})")
        for key, amount in (
            ("allocated", figures.allocated),
            ("shared", figures.shared),
            ("unallocated", figures.unallocated),
        ):
            row = table.row()
            row.cell(LABELS[key])
            row.cell(format_money(amount, currency))
        row = table.row(style=total_style)
        row.cell(f"{LABELS['total']} ({currency})")
        row.cell(format_money(figures.total, currency))
    tax = unit.tax.get(currency)
    if tax is not None:
        from tally.tax.pdf import render_breakdown

        render_breakdown(pdf, tax, layout, REGULAR)
    pdf.ln(4)
