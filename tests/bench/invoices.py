"""``make bench``: how long an invoice takes to render (no assertion: a figure to watch)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

# The sizes rendered: a typical month, and the acceptance's 500-line invoice.
SIZES = (40, 500)


def render_times(runs: int = 3) -> Iterator[tuple[str, str]]:
    import io

    import pypdf

    from tally.invoices import render_pdf
    from tests.invoice_samples import long_invoice

    render_pdf(long_invoice(5))  # the first render loads fpdf2 and the fonts' code
    for lines in SIZES:
        invoice = long_invoice(lines)
        times, pdf = [], b""
        for _ in range(runs):
            started = time.perf_counter()
            pdf = render_pdf(invoice)
            times.append(time.perf_counter() - started)
        size, pages = len(pdf), len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
        yield (
            f"{lines}-line invoice: render seconds (median of {runs})",
            f"{statistics.median(times):.2f}  ({size / 1024:.0f} KiB, {pages} pages)",
        )
