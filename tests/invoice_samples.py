"""A realistic month for invoices: the screenshots in docs/screenshots (``make screenshots``
runs ``python -m tests.invoice_samples docs/screenshots``), the invoice tests and ``make bench``.

One user (priya.raman, budget $1,000) with EC2, RDS, S3, Lambda, CloudWatch and data transfer
costs from 1 to 19 November 2026, a monthly tax line, a credit and a refund, ingested as the
daily run ingests them (so the roll-ups the API reads are the real ones). Rendered on the date
the tests pin (20 November 2026): the month is not final, so the invoice is provisional.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tally.allocation import OwnerTagRule
from tally.identity import Role
from tally.ingest import ingest_days
from tally.invoices import Invoice, InvoiceOrg, build_invoice, issue, render_pdf
from tally.models import AuditEntry, Budget, CostLine, CostRecord, Metric, UserProfile
from tally.store import Stores, memory_stores

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
MONTH = "2026-11"
USER = UserProfile("u-priya", "priya.raman", "priya.raman@example.com", Role.USER)
ACCOUNT = "arn:aws:{service}:us-east-1:123456789012:{resource}"

# (service, resource, unit, daily quantity, daily cost): the month's recurring usage.
USAGE: tuple[tuple[str, str | None, str | None, str, str], ...] = (
    *(
        (
            "Amazon Elastic Compute Cloud",
            ACCOUNT.format(service="ec2", resource=f"instance/i-0a7f3c9e21b4d5{n:03d}"),
            "Hrs",
            "24",
            str(Decimal("2.3088") + Decimal(n) / 10),
        )
        for n in range(14)
    ),
    *(
        (
            "Amazon Elastic Compute Cloud",
            ACCOUNT.format(service="ec2", resource=f"volume/vol-07c1e5b2a9{n:03d}"),
            "GB-Mo",
            "3.2258",
            "0.2581",
        )
        for n in range(8)
    ),
    *(
        (
            "Amazon Relational Database Service",
            ACCOUNT.format(service="rds", resource=f"db:orders-db-{name}"),
            "Hrs",
            "24",
            cost,
        )
        for name, cost in (("prod", "11.31"), ("staging", "2.88"), ("reporting", "4.56"))
    ),
    *(
        (
            "Amazon Simple Storage Service",
            f"tally-{name}",
            "GB-Mo",
            quantity,
            cost,
        )
        for name, quantity, cost in (
            ("analytics-raw", "1820.5", "1.3961"),
            ("analytics-curated", "402.25", "0.3085"),
            ("backups", "5100", "0.6800"),
            ("static-site", "12.4", "0.0095"),
            ("logs", "890", "0.6827"),
        )
    ),
    *(
        (
            "AWS Lambda",
            ACCOUNT.format(service="lambda", resource=f"function:{name}"),
            "Requests",
            requests,
            cost,
        )
        for name, requests, cost in (
            ("image-resizer", "182000", "0.4120"),
            ("orders-webhook", "41000", "0.0930"),
            ("nightly-report", "30", "0.0110"),
            ("thumbnailer", "96000", "0.2170"),
        )
    ),
    *(
        (
            "Amazon CloudWatch",
            ACCOUNT.format(service="logs", resource=f"log-group:/aws/lambda/{name}"),
            "GB",
            "0.41",
            "0.2050",
        )
        for name in ("image-resizer", "orders-webhook", "thumbnailer")
    ),
    ("AWS Data Transfer", None, "GB", "38.2", "3.4380"),
    ("Amazon Route 53", None, "Queries", "210000", "0.0840"),
)


def _lines(last: date) -> list[CostLine]:
    tags = {"Owner": USER.username}
    lines = []
    day = date(2026, 11, 1)
    while day <= last:
        for service, resource, unit, quantity, cost in USAGE:
            amount = Decimal(cost)
            lines.append(
                CostLine(
                    day,
                    service,
                    resource,
                    amount,
                    amount,
                    "USD",
                    Decimal(quantity),
                    unit,
                    tags=tags,
                )
            )
        day += timedelta(days=1)
    one_off = (
        (date(2026, 11, 1), "Tax", "Amazon Elastic Compute Cloud", "38.40"),
        (date(2026, 11, 1), "Tax", "Amazon Relational Database Service", "12.96"),
        (date(2026, 11, 9), "Credit", "Amazon Elastic Compute Cloud", "-75.00"),
        (date(2026, 11, 12), "Refund", "Amazon Simple Storage Service", "-4.20"),
    )
    for day, category, service, cost in one_off:
        amount = Decimal(cost)
        lines.append(
            CostLine(day, service, None, amount, amount, "USD", charge_category=category, tags=tags)
        )
    return lines


def sample_stores(last: date = TODAY - timedelta(days=1)) -> Stores:
    """The user, their budget and the month's costs up to ``last``, ingested."""
    stores = memory_stores()
    stores.users.put(USER)
    stores.budgets.create(
        Budget("b-priya", USER.user_id, Decimal("1000"), 80, "USD", NOW, NOW, 1),
        AuditEntry(USER.user_id, NOW, USER.user_id, "budget.created", "b-priya", {}),
    )
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(last.day)]
    ingest_days(_lines(last), days, stores=stores, rule=OwnerTagRule(), source="sample", now=NOW)
    return stores


def sample_invoice(stores: Stores | None = None, *, today: date = TODAY) -> Invoice:
    stores = stores or sample_stores()
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
    return issue(stores.invoice_numbers, invoice, now=NOW)


def long_invoice(lines: int) -> Invoice:
    """An invoice of ``lines`` usage lines (one EC2-like resource each, over nine services),
    for the page-break test and the render benchmark."""
    stores = memory_stores()
    stores.users.put(USER)
    day = date(2026, 11, 2)
    fetched = datetime(2026, 11, 3, tzinfo=UTC)
    records = [
        CostRecord(
            USER.user_id,
            day,
            f"line-{n}",
            f"Service {n % 9}",
            f"arn:aws:ec2:us-east-1:123456789012:instance/i-{n:017x}",
            Decimal("24"),
            "Hrs",
            Decimal(n) / 100,
            Decimal(n) / 100,
            "USD",
            "Usage",
            False,
            "test",
            fetched,
            "tag",
        )
        for n in range(1, lines + 1)
    ]
    stores.costs.replace_day(day, records)
    invoice = build_invoice(
        stores,
        user_id=USER.user_id,
        cost_center=None,
        month="2026-11",
        metric=Metric.EFFECTIVE,
        today=TODAY,
        now=NOW,
        org=InvoiceOrg(),
    )
    return issue(stores.invoice_numbers, invoice, now=NOW)


def page_images(pdf: bytes, directory: Path, prefix: str = "invoice-page") -> list[Path]:
    """Each page as ``<prefix>-<n>.png`` (150 dpi), drawn by PDFium."""
    import pypdfium2

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    document = pypdfium2.PdfDocument(pdf)
    try:
        for n, page in enumerate(document, start=1):
            path = directory / f"{prefix}-{n}.png"
            page.render(scale=150 / 72).to_pil().save(path)
            written.append(path)
    finally:
        document.close()
    return written


def main(argv: list[str]) -> int:
    directory = Path(argv[0] if argv else "docs/screenshots")
    pdf = render_pdf(sample_invoice())
    for path in page_images(pdf, directory):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
