"""The invoice PDF, read back with pypdf: every line item and the API's total in its text, the
header row on every page of a long invoice, page numbers, the provisional mark, any name."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pypdf
import pytest

from tally.email.formatting import format_money
from tally.identity import Caller
from tally.invoices import Invoice, InvoiceOrg, render_pdf
from tally.invoices.pdf import format_quantity, invoice_templates_dir, load_layout
from tally.reports import month_summary
from tally.settings import ConfigurationError
from tally.store import Stores
from tally.tables import USER_GROUP
from tally.view import View
from tests import invoice_samples as samples

NOW = samples.NOW


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def _flat(text: str) -> str:
    """Text without whitespace: a long ARN wraps inside its cell."""
    return re.sub(r"\s+", "", text)


def _fonts(pdf: bytes) -> set[str]:
    names = set()
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


@pytest.fixture(scope="module")
def world() -> Stores:
    return samples.sample_stores()


@pytest.fixture(scope="module")
def sample(world: Stores) -> tuple[Invoice, bytes]:
    invoice = samples.sample_invoice(world)
    return invoice, render_pdf(invoice)


def test_the_text_holds_every_line_item_and_the_apis_total(
    world: Stores, sample: tuple[Invoice, bytes]
) -> None:
    invoice, pdf = sample
    pages = _pages(pdf)
    text = _flat("".join(pages))
    for line in invoice.lines:
        assert _flat(line.service) in text
        assert _flat(line.resource_id or "(no resource)") in text
        assert format_money(line.amount, "USD") in text
        if line.usage_unit:
            assert _flat(f"{format_quantity(line.usage_quantity)}{line.usage_unit}") in text
    caller = Caller(samples.USER.user_id, samples.USER.username, None, frozenset({USER_GROUP}))
    api_total = month_summary(View(caller, world, samples.TODAY), samples.USER.user_id).total
    assert api_total == invoice.total("USD")
    assert f"Total(USD){format_money(api_total, 'USD')}" in text
    assert invoice.number and invoice.number in text
    assert "Subtotal" in text and "Budget" in text and "Overbudgetby" in text
    assert f"Page1of{len(pages)}" in _flat(pages[0])


def test_a_500_line_invoice_breaks_pages_with_the_header_row_on_each() -> None:
    invoice = samples.long_invoice(500)
    pages = _pages(render_pdf(invoice))
    assert len(pages) > 5
    headings = [
        column["title"] for column in load_layout(str(invoice_templates_dir())).raw["columns"]
    ]
    header_row = " ".join(headings)
    for n, page in enumerate(pages, start=1):
        assert header_row in page, f"page {n} has no header row"
        assert f"Page {n} of {len(pages)}" in page
    text = _flat("".join(pages))
    # No line lost, none printed twice: each resource once, in order within its service.
    for line in invoice.lines:
        assert text.count(_flat(line.resource_id or "")) == 1, line.resource_id
    total = sum((Decimal(n) / 100 for n in range(1, 501)), Decimal(0))
    assert invoice.total("USD") == total
    assert f"Total(USD){format_money(total, 'USD')}" in text


def test_a_name_in_greek_chinese_and_emoji_renders_with_the_fallback_fonts() -> None:
    stores = samples.sample_stores()
    name = "Σοφία 王小明 🚀"
    stores.users.put(replace(samples.USER, username=name))
    pdf = render_pdf(samples.sample_invoice(stores))
    text = _pages(pdf)[0]
    assert "Σοφία" in text and "王小明" in text
    fonts = _fonts(pdf)
    assert any("DroidSansFallback" in f for f in fonts), fonts
    assert any("Symbola" in f for f in fonts), fonts


def test_a_latin_name_loads_no_fallback_font(sample: tuple[Invoice, bytes]) -> None:
    assert not any("DroidSans" in f or "Symbola" in f for f in _fonts(sample[1]))


def test_provisional_is_marked_until_the_month_is_final() -> None:
    stores = samples.sample_stores()
    before = samples.sample_invoice(stores, today=date(2026, 12, 1))
    after = samples.sample_invoice(stores, today=date(2026, 12, 2))
    assert before.provisional and not after.provisional
    assert before.number == after.number  # the same figures: the same number
    marked = _pages(render_pdf(before))
    assert all("PROVISIONAL" in page for page in marked)
    final = _pages(render_pdf(after))
    assert not any("PROVISIONAL" in page or "Provisional" in page for page in final)
    assert "Final" in final[0]


def test_the_logo_is_drawn_when_configured(tmp_path: Path, sample: tuple[Invoice, bytes]) -> None:
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), (36, 87, 197)).save(logo)
    invoice = replace(sample[0], org=InvoiceOrg("Example Corp", logo))
    page = pypdf.PdfReader(io.BytesIO(render_pdf(invoice))).pages[0]
    assert len(page.images) == 1
    assert not pypdf.PdfReader(io.BytesIO(sample[1])).pages[0].images


def test_a_logo_that_is_not_there_is_a_configuration_error(
    sample: tuple[Invoice, bytes], tmp_path: Path
) -> None:
    invoice = replace(sample[0], org=InvoiceOrg("Example Corp", tmp_path / "missing.png"))
    with pytest.raises(ConfigurationError):
        render_pdf(invoice)


def test_the_org_comes_from_the_environment() -> None:
    assert InvoiceOrg.from_env({}) == InvoiceOrg("Tally", None)
    org = InvoiceOrg.from_env({"TALLY_ORG_NAME": " Example Corp ", "TALLY_ORG_LOGO": "/x/l.png"})
    assert org == InvoiceOrg("Example Corp", Path("/x/l.png"))


def test_the_layout_is_read_from_the_folder_given(
    tmp_path: Path, sample: tuple[Invoice, bytes]
) -> None:
    source = invoice_templates_dir()
    (tmp_path / "fonts").symlink_to(source / "fonts")
    layout = (
        (source / "layout.json").read_text().replace('"title": "Invoice"', '"title": "Rechnung"')
    )
    (tmp_path / "layout.json").write_text(layout)
    assert "Rechnung" in _pages(render_pdf(sample[0], layout_dir=tmp_path))[0]
    with pytest.raises(ConfigurationError):
        render_pdf(sample[0], layout_dir=tmp_path / "nowhere")


def test_importing_the_package_does_not_import_fpdf() -> None:
    import subprocess
    import sys

    code = "import sys, tally.invoices; print('fpdf' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("quantity", "text"),
    [
        (Decimal("3458000"), "3,458,000"),
        (Decimal("7.7900"), "7.79"),
        (Decimal("0.000001"), "0"),
        (Decimal("61.29032"), "61.2903"),
        (Decimal("0"), "0"),
    ],
)
def test_quantities_read_plainly(quantity: Decimal, text: str) -> None:
    assert format_quantity(quantity) == text


def test_the_sample_pages_become_images(tmp_path: Path, sample: tuple[Invoice, bytes]) -> None:
    from PIL import Image

    written = samples.page_images(sample[1], tmp_path)
    assert [p.name for p in written] == [
        f"invoice-page-{n}.png" for n in range(1, len(_pages(sample[1])) + 1)
    ]
    with Image.open(written[0]) as first:
        assert first.size == (1241, 1754)  # A4 (210 x 297 mm) at 150 dpi, rounded up
        low, high = first.convert("L").getextrema()
        assert isinstance(low, int) and isinstance(high, int)
        assert high - low > 100  # drawn, not blank


def test_each_currency_has_its_own_section_and_total() -> None:
    usd = samples.long_invoice(3)
    section = usd.sections[0]
    eur = replace(section, currency="EUR", total=Decimal("7.25"), usage_total=Decimal("7.25"))
    invoice = replace(usd, sections=(section, eur))
    text = _flat("".join(_pages(render_pdf(invoice))))
    assert "AmountsinUSD" in text and "AmountsinEUR" in text
    assert f"Total(USD){format_money(section.total, 'USD')}" in text
    assert "Total(EUR)7.25EUR" in text


def test_a_cost_center_invoice_names_the_cost_center_and_each_lines_user() -> None:
    invoice = samples.long_invoice(2)
    subject = replace(invoice.subject, kind="cost-center", subject_id="CC-42", name="CC-42")
    section = invoice.sections[0]
    groups = tuple(
        replace(g, lines=tuple(replace(x, user="ann") for x in g.lines)) for g in section.services
    )
    invoice = replace(invoice, subject=subject, sections=(replace(section, services=groups),))
    text = _pages(render_pdf(invoice))[0]
    assert "Cost center: CC-42" in text
    assert "priya.raman@example.com" not in text
    assert _flat(f"{invoice.lines[0].resource_id} (ann)") in _flat(text)
