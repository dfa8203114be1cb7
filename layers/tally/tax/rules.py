"""The tax rules and settings as use cases: read (tax:read), add a rule, end a rule, change
the settings (tax:write), each change audited. Rules are never deleted: ending one keeps it
for the invoices of the days it was in force.

``tax_settings`` / ``save_tax_settings`` are the settings' documented entry points, for the
billing settings' ``tax`` section to call as they are.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from tally.access import require
from tally.authz import Target
from tally.clock import Clock, utc_now
from tally.errors import Conflict, Invalid, NotFound
from tally.identifiers import cost_center_problem
from tally.models import AuditEntry
from tally.store import Stores
from tally.store.tax import RuleSet
from tally.tax.model import (
    HUNDRED,
    ZERO,
    Rounding,
    TaxMode,
    TaxRule,
    TaxSettings,
    Treatment,
    Unit,
    UnitKind,
)
from tally.view import View

READ = "tax:read"
WRITE = "tax:write"
NAME_MAX = 40
REASON_MAX = 200
JURISDICTION = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,15}$")
RATE_PLACES = 4  # 19.0000%: enough for any published rate
NO_SUCH_RULE = "no tax rule with that id"


@dataclass(frozen=True)
class RuleInput:
    name: str
    jurisdiction: str
    rate: Decimal
    unit: str  # Unit.key
    effective_from: date
    effective_to: date | None = None
    treatment: Treatment = Treatment.STANDARD
    reason: str | None = None


def list_rules(view: View) -> RuleSet:
    """Every rule, ended ones too (tax:read at the organisation)."""
    require(view.caller, READ, Target.org())
    return view.stores.tax.rules()


def create_rule(view: View, draft: RuleInput, *, clock: Clock = utc_now) -> TaxRule:
    """A new rule (tax:write). 422 on the failing field; 409 when a rule for the same unit and
    jurisdiction is in force on any of the same days (end that one first)."""
    require(view.caller, WRITE, Target.org())
    now = clock()
    rule = TaxRule(
        rule_id=f"tr-{uuid.uuid4().hex[:12]}",
        name=_name(draft.name),
        jurisdiction=_jurisdiction(draft.jurisdiction),
        rate=_rate(draft.rate, draft.treatment),
        unit=_unit(view.stores, draft.unit),
        effective_from=draft.effective_from,
        effective_to=draft.effective_to,
        treatment=draft.treatment,
        reason=_reason(draft.reason, draft.treatment),
        created_at=now,
        created_by=view.caller.user_id,
    )
    if rule.effective_to is not None and rule.effective_to <= rule.effective_from:
        raise Invalid.field("effectiveTo", "after effectiveFrom (the last day is the one before)")
    found = view.stores.tax.rules()
    _no_overlap(rule, found)
    return view.stores.tax.save_rule(
        rule,
        read_at=found.revision,
        audit=_audit(view, rule.rule_id, "tax.rule.created", None, rule_doc(rule), now),
    )


def end_rule(view: View, rule_id: str, effective_to: date, *, clock: Clock = utc_now) -> TaxRule:
    """End a rule on ``effective_to`` (its first day out of force; tax:write). Not before
    today, so an invoice already made is taxed again the same; not an ended rule's past."""
    require(view.caller, WRITE, Target.org())
    found = view.stores.tax.rules()
    rule = next((r for r in found.rules if r.rule_id == rule_id), None)
    if rule is None:
        raise NotFound(NO_SUCH_RULE)
    if rule.effective_to is not None and rule.effective_to < view.today:
        raise Conflict("the rule ended already; add a new rule instead")
    if effective_to < view.today:
        raise Invalid.field("effectiveTo", "today or later: the past stays as invoiced")
    if effective_to <= rule.effective_from:
        raise Invalid.field("effectiveTo", "after the rule's effectiveFrom")
    ended = replace(rule, effective_to=effective_to, version=rule.version + 1)
    _no_overlap(ended, found)
    before = rule_doc(rule)
    return view.stores.tax.save_rule(
        ended,
        read_at=found.revision,
        audit=_audit(view, rule_id, "tax.rule.ended", before, rule_doc(ended), clock()),
    )


def tax_settings(stores: Stores) -> TaxSettings:
    """The organisation's tax settings (the defaults until saved): what AWS's own tax lines
    become (``mode``) and where tax is rounded (``rounding``)."""
    return stores.tax.settings()


def save_tax_settings(
    stores: Stores,
    *,
    actor: str,
    mode: TaxMode,
    rounding: Rounding,
    expected_version: int,
    now: datetime,
) -> TaxSettings:
    """Save the settings if they are still at ``expected_version`` (409 otherwise), audited.
    The caller checks tax:write (``update_settings`` does)."""
    current = stores.tax.settings()
    if expected_version != current.version:
        raise Conflict("the tax settings were changed by someone else; reload and retry")
    wanted = TaxSettings(mode, rounding, current.version, now, actor)
    entry = AuditEntry(
        subject_user_id="tax:settings",
        at=now,
        actor=actor,
        action="tax.settings.updated",
        entity_id="settings",
        details={
            "before": f"{current.mode.value}/{current.rounding.value}",
            "after": f"{mode.value}/{rounding.value}",
        },
    )
    return stores.tax.save_settings(wanted, audit=entry)


def read_settings(view: View) -> TaxSettings:
    require(view.caller, READ, Target.org())
    return tax_settings(view.stores)


def update_settings(
    view: View,
    *,
    mode: TaxMode,
    rounding: Rounding,
    expected_version: int | None,
    clock: Clock = utc_now,
) -> TaxSettings:
    """Change the settings (tax:write). Without ``expected_version`` (no If-Match) the
    change applies to the settings as they are now."""
    require(view.caller, WRITE, Target.org())
    version = expected_version
    if version is None:
        version = view.stores.tax.settings().version
    return save_tax_settings(
        view.stores,
        actor=view.caller.user_id,
        mode=mode,
        rounding=rounding,
        expected_version=version,
        now=clock(),
    )


def rule_doc(rule: TaxRule) -> dict[str, str | None]:
    """A rule as the audit log keeps it."""
    return {
        "name": rule.name,
        "jurisdiction": rule.jurisdiction,
        "rate": format(rule.rate, "f"),
        "unit": rule.unit.key,
        "effectiveFrom": rule.effective_from.isoformat(),
        "effectiveTo": rule.effective_to.isoformat() if rule.effective_to else None,
        "treatment": rule.treatment.value,
        "reason": rule.reason,
    }


def _audit(
    view: View,
    rule_id: str,
    action: str,
    before: dict[str, str | None] | None,
    after: dict[str, str | None],
    now: datetime,
) -> AuditEntry:
    return AuditEntry(
        subject_user_id=f"tax:{rule_id}",
        at=now,
        actor=view.caller.user_id,
        action=action,
        entity_id=rule_id,
        details={
            "before": json.dumps(before, sort_keys=True),
            "after": json.dumps(after, sort_keys=True),
        },
    )


def _no_overlap(rule: TaxRule, found: RuleSet) -> None:
    for other in found.rules:
        if (
            other.rule_id != rule.rule_id
            and other.unit == rule.unit
            and other.jurisdiction == rule.jurisdiction
            and other.overlaps(rule)
        ):
            raise Conflict(
                f"rule {other.rule_id} already taxes {rule.unit.key} in {rule.jurisdiction} "
                "on some of these days; end it first"
            )


def _name(value: str) -> str:
    cleaned = value.strip()
    if not 1 <= len(cleaned) <= NAME_MAX:
        raise Invalid.field("name", f"1 to {NAME_MAX} characters")
    return cleaned


def _jurisdiction(value: str) -> str:
    cleaned = value.strip().upper()
    if not JURISDICTION.fullmatch(cleaned):
        raise Invalid.field(
            "jurisdiction", "a country or region code: letters, digits and hyphens (DE, US-NY)"
        )
    return cleaned


def _rate(value: Decimal, treatment: Treatment) -> Decimal:
    if not value.is_finite() or not ZERO <= value <= HUNDRED:
        raise Invalid.field("rate", "a percentage from 0 to 100")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > RATE_PLACES:
        raise Invalid.field("rate", f"at most {RATE_PLACES} decimal places")
    if treatment is not Treatment.STANDARD and value != ZERO:
        raise Invalid.field("rate", f"a {treatment.value} rule's rate is 0")
    return value


def _reason(value: str | None, treatment: Treatment) -> str | None:
    cleaned = (value or "").strip() or None
    if treatment is not Treatment.STANDARD and cleaned is None:
        raise Invalid.field("reason", f"say why the unit is {treatment.value}")
    if cleaned is not None and len(cleaned) > REASON_MAX:
        raise Invalid.field("reason", f"at most {REASON_MAX} characters")
    return cleaned


def _unit(stores: Stores, key: str) -> Unit:
    try:
        unit = Unit.parse(key)
    except ValueError:
        raise Invalid.field("unit", "org, team:<team id> or costCenter:<name>") from None
    if unit.kind is UnitKind.TEAM and stores.access.get_team(unit.unit_id) is None:
        raise Invalid.field("unit", "no such team")
    if unit.kind is UnitKind.COST_CENTER:
        problem = cost_center_problem(unit.unit_id)
        if problem:
            raise Invalid.field("unit", problem)
    return unit
