"""Refreshing the stored recommendations: collect, judge, split among owners, price, replace.

Ownership is the ingest's: a resource belongs today to whoever ``tally.allocation.allocate``
would give a cost line of it dated today (its assignments in force, split by share, then its
owner tag, then ``UNALLOCATED``), so a recommendation lands where the resource's costs land.
Each owner's saving is priced from that owner's own records of the resource (their share);
without any, from the rule's list price times their share.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING

from tally.allocation import OwnerTagRule, allocate
from tally.models import CostLine, Metric, Recommendation
from tally.money import to_cents
from tally.recommendations import collectors, rules
from tally.recommendations.collectors import AwsClient
from tally.recommendations.pricing import PRICE_WINDOW_DAYS, CostLines, monthly_cost
from tally.recommendations.rules import Finding
from tally.resources import line_match_key
from tally.users import every_user

if TYPE_CHECKING:
    from tally.models import Assignment
    from tally.settings import Settings
    from tally.store import Stores

HUNDRED = Decimal(100)
# Every list price of the rules is a USD price.
LIST_PRICE_CURRENCY = "USD"


@dataclass(frozen=True)
class RefreshReport:
    findings: int  # resources a rule flagged
    stored: int  # recommendations now stored (one per finding and owner)
    removed: int  # stored ones that no longer hold
    by_kind: dict[str, int] = field(default_factory=dict)


def recommendation_id(kind: str, match_key: str, owner: str) -> str:
    """Stable and path-safe: the same resource, rule and owner always get the same id."""
    digest = hashlib.sha256(f"{kind}\x1f{match_key}\x1f{owner}".encode()).hexdigest()[:20]
    return f"{kind}-{digest}"


def owners_of(
    finding: Finding,
    *,
    today: date,
    assignments: list[Assignment],
    tag_owners: dict[str, str],
    owner_tag_key: str,
) -> dict[str, Decimal]:
    """owner -> share percent of the resource today, as the ingest would allocate it."""
    probe = CostLine(
        day=today,
        service=finding.service,
        resource_id=finding.resource_id,
        billed_cost=HUNDRED,
        effective_cost=HUNDRED,
        currency=LIST_PRICE_CURRENCY,
        tags=finding.tags or {},
    )
    shares: dict[str, Decimal] = defaultdict(Decimal)
    for r in allocate(
        [probe],
        assignments=assignments,
        tag_owners=tag_owners,
        owner_tag_key=owner_tag_key,
        source="recommendations",
        fetched_at=datetime.combine(today, time(), tzinfo=UTC),
    ):
        shares[r.owner] += r.share_pct
    return dict(shares)


def _with_tags(finding: Finding, aws_client: AwsClient) -> Finding:
    if finding.tags is not None:
        return finding
    if finding.resource_type == "lambda":
        tags = collectors.lambda_tags(aws_client, finding.resource_id)
    elif finding.resource_type == "s3":
        tags = collectors.bucket_tags(aws_client, finding.resource_id)
    else:
        tags = {}
    return replace(finding, tags=tags)


def _priced(
    finding: Finding,
    owner: str,
    share: Decimal,
    lines: CostLines,
    metric: Metric,
    match_key: str,
) -> tuple[Decimal, str, dict[str, str]] | None:
    """(monthly saving, currency, evidence of the price) for one owner; None: not worth
    recommending (a rule that needs cost lines, and this owner has none)."""
    cost = monthly_cost(lines.of(owner, match_key), metric)
    evidence = {"sharePct": format(share.normalize(), "f")}
    if cost is not None:
        evidence |= {
            "costBasis": f"cost lines: {cost.days} of the last {PRICE_WINDOW_DAYS} days",
            "dailyCost": f"{to_cents(cost.daily)} {cost.currency}",
            "monthlyCost": f"{to_cents(cost.amount)} {cost.currency}",
        }
        return to_cents(cost.amount * finding.cost_fraction), cost.currency, evidence
    if finding.needs_cost:
        return None
    if finding.list_price is None:
        evidence["costBasis"] = f"no cost lines in the last {PRICE_WINDOW_DAYS} days"
        return Decimal("0.00"), LIST_PRICE_CURRENCY, evidence
    evidence["costBasis"] = "list price (no cost lines)"
    return to_cents(finding.list_price * share / HUNDRED), LIST_PRICE_CURRENCY, evidence


def refresh_recommendations(
    stores: Stores, aws_client: AwsClient, *, today: date, now: datetime, settings: Settings
) -> RefreshReport:
    """Collect the account's resources and statistics, judge them and make the result the
    whole stored set: idempotent (the same inputs store the same set; one first detected
    earlier keeps its ``detectedAt``), and what no longer holds is removed. A failed AWS call
    fails the refresh and leaves the stored set as it was: a partial inventory would remove
    the recommendations of what could not be read."""
    inventory = collectors.collect_inventory(aws_client)
    usage = collectors.collect_usage(
        aws_client,
        inventory,
        today=today,
        instance_days=rules.IDLE_EC2_DAYS,
        database_days=rules.IDLE_RDS_DAYS,
        function_days=rules.IDLE_LAMBDA_DAYS,
    )
    findings = rules.evaluate(inventory, usage, today=today)
    rule = OwnerTagRule(settings.owner_tag_key, settings.owner_tag_map)
    assignments = stores.assignments.all() if findings else []
    tag_owners = rule.resolver(every_user(stores.users)) if findings else {}
    metric = Metric(settings.budget_metric)
    lines = CostLines(stores.costs, today=today)
    earlier = {r.recommendation_id: r for r in stores.recommendations.all()}

    fresh: list[Recommendation] = []
    for finding in findings:
        finding = _with_tags(finding, aws_client)
        key = line_match_key(finding.service, finding.resource_id)
        shares = owners_of(
            finding,
            today=today,
            assignments=assignments,
            tag_owners=tag_owners,
            owner_tag_key=rule.key,
        )
        for owner, share in sorted(shares.items()):
            priced = _priced(finding, owner, share, lines, metric, key)
            if priced is None:
                continue
            saving, currency, price_evidence = priced
            rec_id = recommendation_id(finding.kind, key, owner)
            before = earlier.get(rec_id)
            fresh.append(
                Recommendation(
                    recommendation_id=rec_id,
                    owner=owner,
                    kind=finding.kind,
                    resource_id=finding.resource_id,
                    resource_type=finding.resource_type,
                    service=finding.service,
                    title=finding.title,
                    detail=finding.detail,
                    monthly_saving=saving,
                    currency=currency,
                    evidence=finding.evidence | price_evidence,
                    detected_at=before.detected_at if before else now,
                )
            )
    stored, removed = stores.recommendations.replace_all(fresh)
    return RefreshReport(
        findings=len(findings),
        stored=stored,
        removed=removed,
        by_kind=dict(Counter(r.kind for r in fresh)),
    )
