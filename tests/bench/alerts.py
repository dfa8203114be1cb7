"""``make bench``, alerts section: budget alert evaluation for a large organisation, and how fast
emails render.

An organisation of ``users`` people, each with a budget ($1,000, threshold 80%) and a roll-up
of the month with a forecast and three top resources. The spend is spread as a real month on
the 20th would be: 8 in 100 over budget, 17 between the threshold and the limit, 10 under the
threshold but projected over, 1 with a zero budget and a little spend, the rest comfortably
under; 5 in 100 take the daily digest. ``AlertEvaluation.run`` evaluates them all with the
in-memory channels (nothing leaves the machine), once on the in-memory stores with every user
(the domain's own cost: time per 1,000 users) and once on moto's DynamoDB, counting every
DynamoDB request as ``counting_dynamodb`` does. moto answers a request in tens of milliseconds
or more, so the count runs on ``DYNAMODB_SAMPLE`` users of the same mix (one of each hundred):
what a user costs does not depend on how many others there are, except the admins' listing,
read once a run. Figures, never assertions.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tally.forecast.result import Forecast, MonthEndProjection
from tally.identity import Role
from tally.models import (
    Amounts,
    AuditEntry,
    Budget,
    BudgetTerms,
    CostRecord,
    DigestCadence,
    MonthlyRollup,
    Preferences,
    ResourceCost,
    RollupSection,
    UserProfile,
)

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # the daily ingest's run, 06:00 UTC
YESTERDAY = TODAY - timedelta(days=1)
MONTH = "2026-11"
LIMIT = Decimal(1000)
THRESHOLD = 80
ADMINS = 3
DYNAMODB_SAMPLE = 100  # one whole cycle of the spend mix in ``_spend``
RENDERED = 2_000  # messages render() goes through for the emails-per-second figure

Rows = Iterator[tuple[str, object]]


def _spend(n: int) -> tuple[Decimal, Decimal, Decimal]:
    """User ``n``'s month so far, projection and limit (see the module's docstring)."""
    bucket = n % 100
    jitter = Decimal(n % 37)
    if bucket < 8:  # over budget
        spent = Decimal(1020) + jitter * 7
        return spent, spent * Decimal("1.5"), LIMIT
    if bucket < 25:  # threshold met
        spent = Decimal(805) + jitter * 5
        return spent, spent * Decimal("1.45"), LIMIT
    if bucket < 35:  # under the threshold, projected over
        spent = Decimal(640) + jitter * 3
        return spent, spent * Decimal("1.6"), LIMIT
    if bucket == 99:  # a zero budget: any spend alerts
        return Decimal("3.20") + jitter / 10, Decimal(5), Decimal(0)
    spent = Decimal(150) + jitter * 9
    return spent, spent * Decimal("1.3"), LIMIT


def _rollup(user_id: str, spent: Decimal, projection: Decimal) -> MonthlyRollup:
    shares = (Decimal("0.55"), Decimal("0.3"), Decimal("0.15"))
    top = [
        ResourceCost(
            f"arn:aws:ec2:us-east-1:123456789012:instance/i-{user_id[-5:]}{k}",
            service,
            Amounts(spent * share, spent * share),
        )
        for k, (service, share) in enumerate(
            zip(("Amazon EC2", "Amazon RDS", "Amazon S3"), shares, strict=True)
        )
    ]
    section = RollupSection(
        totals=Amounts(spent, spent),
        by_service={r.service: r.amounts for r in top},
        by_category={"Usage": Amounts(spent, spent)},
        daily={},
        daily_by_service={},
        top_resources=top,
    )
    end = MonthEndProjection(
        month=MONTH,
        actual_to_date=spent,
        forecast_remainder=projection - spent,
        projected_total=projection,
        lower80=projection * Decimal("0.92"),
        upper80=projection * Decimal("1.08"),
        lower95=projection * Decimal("0.88"),
        upper95=projection * Decimal("1.12"),
        days_elapsed=19,
        days_remaining=11,
    )
    return MonthlyRollup(
        owner=user_id,
        month=MONTH,
        sections={"USD": section},
        estimated=False,
        record_count=19 * 3,
        updated_at=NOW,
        forecast={"USD": Forecast(TODAY - timedelta(days=1), "linear", 120, end, ())},
    )


def seed(stores: Any, users: int) -> list[str]:
    """The organisation in ``stores``; returns the user ids (admins first)."""
    ids = []
    yesterday: list[CostRecord] = []
    created = datetime(2026, 10, 1, tzinfo=UTC)
    for n in range(users):
        user_id = f"u-{n:05}"
        role = Role.ADMIN if n < ADMINS else Role.USER
        stores.users.put(UserProfile(user_id, f"user{n:05}", f"user{n:05}@example.com", role))
        spent, projection, limit = _spend(n)
        budget = Budget(
            budget_id=f"b-{n:05}",
            user_id=user_id,
            monthly_limit=limit,
            alert_threshold=THRESHOLD,
            currency="USD",
            created_at=created,
            updated_at=created,
            version=0,
            history=(BudgetTerms("2026-10", limit, THRESHOLD, "USD"),),
        )
        audit = AuditEntry(user_id, created, user_id, "budget.created", budget.budget_id, {})
        stores.budgets.create(budget, audit)
        stores.rollups.put(_rollup(user_id, spent, projection))
        if n % 20 == 7:
            stores.preferences.put(Preferences(user_id, digest=DigestCadence.DAILY))
            yesterday.extend(_day_lines(user_id, spent / 19))
        ids.append(user_id)
    # The daily digest reads yesterday's cost lines; nobody else's are read.
    stores.costs.replace_day(YESTERDAY, yesterday)
    return ids


def _day_lines(user_id: str, amount: Decimal) -> list[CostRecord]:
    return [
        CostRecord(
            owner=user_id,
            day=YESTERDAY,
            line_id=f"{user_id}-{service}",
            service=service,
            resource_id=None,
            usage_quantity=Decimal(24),
            usage_unit="Hrs",
            billed_cost=amount * share,
            effective_cost=amount * share,
            currency="USD",
            charge_category="Usage",
            estimated=False,
            source="bench",
            fetched_at=NOW,
            allocation="tag",
        )
        for service, share in (("Amazon EC2", Decimal("0.7")), ("Amazon S3", Decimal("0.3")))
    ]


def _evaluation(stores: Any, run_id: str) -> Any:
    from tally.alerts.evaluate import AlertEvaluation, AlertSettings
    from tally.notify.memory import memory_channels

    # The cap above the organisation: the bench measures every email, not the cap's deferral.
    settings = AlertSettings(email_cap=1_000_000)
    return AlertEvaluation(
        stores, memory_channels(), settings, today=TODAY, clock=lambda: NOW, run_id=run_id
    )


def evaluation_in_memory(users: int, chunk: int = 1_000) -> Rows:
    """``run`` over every user, a thousand at a time (each ``run`` drains first: nothing is
    deferred here, so that is one empty read), timing each thousand."""
    from tally.store import memory_stores

    stores = memory_stores()
    ids = seed(stores, users)
    evaluation = _evaluation(stores, "bench-memory")
    report = None
    times = []
    for start in range(0, users, chunk):
        started = time.perf_counter()
        part = evaluation.run(ids[start : start + chunk], [MONTH])
        times.append(time.perf_counter() - started)
        if report is None:
            report = part
        else:
            report += part
    elapsed = sum(times)
    yield "seconds for the whole run (in-memory stores)", f"{elapsed:.1f}"
    yield "evaluation time per 1,000 users (s): mean", f"{elapsed / (users / 1000):.2f}"
    yield (
        "  the first 1,000 / the median / the last 1,000",
        (f"{times[0]:.2f} / {statistics.median(times):.2f} / {times[-1]:.2f}"),
    )
    if times[-1] > 2 * times[0]:
        # Measured: MemoryAlertLedger.entries sorts the whole ledger on every call. DynamoDB
        # answers a user's entries with one Query of their partition, whatever the table holds.
        yield "  (the growth is the in-memory fakes', not the evaluation's)", "see alerts.py"
    yield "what it did", _report(report)
    if report is not None and report.emails_sent:
        yield "emails sent per second of evaluation", f"{report.emails_sent / elapsed:,.0f}"


def _report(report: Any) -> str:
    fields = ("users", "emails_sent", "notifications", "admin_messages", "digests", "suppressed")
    return ", ".join(f"{name} {getattr(report, name):,}" for name in fields)


def dynamodb_requests(
    users: int,
    moto_tables: Callable[[], AbstractContextManager[Any]],
    counting: Callable[[], AbstractContextManager[Counter[str]]],
) -> Rows:
    from tally.store import dynamodb_stores

    with moto_tables() as settings:
        stores = dynamodb_stores(settings)
        ids = seed(stores, users)
        evaluation = _evaluation(stores, "bench-dynamodb")
        with counting() as planned:
            candidates = evaluation.candidates([MONTH])
        with counting() as calls:
            report = evaluation.run(ids, [MONTH])
        total = sum(calls.values())
        yield (
            "candidates(): requests (users found)",
            (f"{sum(planned.values())} ({len(candidates):,})  {dict(planned)}"),
        )
        yield "run(): requests per user", f"{total / users:.2f}  ({total:,} for {users:,})"
        yield "run(): by operation", dict(sorted(calls.items()))
        yield "run(): Scan operations", calls.get("Scan", 0) + planned.get("Scan", 0)
        yield "what it did", _report(report)


def emails_per_second(count: int = RENDERED) -> Rows:
    from dataclasses import replace

    from tally.email.render import render
    from tests.email_samples import sample_emails

    samples = list(sample_emails().values())
    # Different names, so no two renders are the same message.
    messages = [replace(samples[n % len(samples)], to_name=f"User {n:05}") for n in range(count)]
    render(messages[0])  # jinja2, css-inline and the templates load once per container
    started = time.perf_counter()
    for message in messages:
        render(message)
    elapsed = time.perf_counter() - started
    yield f"render(): {count:,} emails of every kind (HTML inlined + text)", f"{elapsed:.2f} s"
    yield "emails rendered per second", f"{count / elapsed:,.0f}"
