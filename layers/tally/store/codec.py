"""Roll-up sections to and from plain JSON-able dicts (Decimals kept exact)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tally.models import Amounts, ResourceCost, RollupSection

if TYPE_CHECKING:
    from tally.forecast import Forecast


def _amounts(a: Amounts) -> list[Decimal]:
    return [a.billed, a.effective]


def _from_amounts(v: list[Any]) -> Amounts:
    return Amounts(Decimal(v[0]), Decimal(v[1]))


def _top_doc(r: ResourceCost) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "resource_id": r.resource_id,
        "service": r.service,
        "amounts": _amounts(r.amounts),
    }
    if r.name is not None:  # unnamed: the item stays as it always was
        doc["name"] = r.name
    return doc


def section_to_doc(s: RollupSection) -> dict[str, Any]:
    return {
        "totals": _amounts(s.totals),
        "by_service": {k: _amounts(v) for k, v in s.by_service.items()},
        "by_category": {k: _amounts(v) for k, v in s.by_category.items()},
        "daily": {k: _amounts(v) for k, v in s.daily.items()},
        "daily_by_service": {
            d: {k: _amounts(v) for k, v in per.items()} for d, per in s.daily_by_service.items()
        },
        "top_resources": [_top_doc(r) for r in s.top_resources],
        "daily_by_category": {
            d: {k: _amounts(v) for k, v in per.items()} for d, per in s.daily_by_category.items()
        },
    }


def section_from_doc(d: dict[str, Any]) -> RollupSection:
    return RollupSection(
        totals=_from_amounts(d["totals"]),
        by_service={k: _from_amounts(v) for k, v in d["by_service"].items()},
        by_category={k: _from_amounts(v) for k, v in d["by_category"].items()},
        daily={k: _from_amounts(v) for k, v in d["daily"].items()},
        daily_by_service={
            day: {k: _from_amounts(v) for k, v in per.items()}
            for day, per in d["daily_by_service"].items()
        },
        top_resources=[
            # "name" is absent from items written before names were kept.
            ResourceCost(r["resource_id"], r["service"], _from_amounts(r["amounts"]), r.get("name"))
            for r in d["top_resources"]
        ],
        # Absent from items written before the per-day split existed.
        daily_by_category={
            day: {k: _from_amounts(v) for k, v in per.items()}
            for day, per in d.get("daily_by_category", {}).items()
        },
    )


# The forecast document keeps the keys roll-ups have always stored it with, so items written
# before the forecast was typed read back as they are, and an older deployment reads new ones.
# Money as decimal strings (exact, whatever the JSON reader does with numbers).


def _forecast_doc(f: Forecast) -> dict[str, Any]:
    end = f.month_end
    doc: dict[str, Any] = {
        "asOf": f.as_of.isoformat(),
        "model": f.model,
        "historyDays": f.history_days,
        "monthEnd": {
            "month": end.month,
            "actualToDate": _money(end.actual_to_date),
            "forecastRemainder": _money(end.forecast_remainder),
            "projectedTotal": _money(end.projected_total),
            "lower80": _money(end.lower80),
            "upper80": _money(end.upper80),
            "lower95": _money(end.lower95),
            "upper95": _money(end.upper95),
            "daysElapsed": end.days_elapsed,
            "daysRemaining": end.days_remaining,
            "expectedCharges": _money(end.expected_charges),
            "expectedByCategory": {k: _money(v) for k, v in end.expected_by_category.items()},
        },
        "daily": [
            {
                "day": p.day.isoformat(),
                "amount": _money(p.amount),
                "lower80": _money(p.lower80),
                "upper80": _money(p.upper80),
                "lower95": _money(p.lower95),
                "upper95": _money(p.upper95),
            }
            for p in f.daily
        ],
    }
    if f.choice is not None:
        doc["choice"] = {
            "model": f.choice.model,
            "errors": f.choice.errors,
            "origins": f.choice.origins,
        }
    return doc


def _money(value: Decimal) -> str:
    return format(value, "f")


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def _forecast_from(d: dict[str, Any]) -> Forecast:
    # Loaded on the first forecast read, not with the store: most requests read none.
    from tally.forecast import DailyForecast, Forecast, ModelChoice, MonthEndProjection

    end = d["monthEnd"]
    choice = d.get("choice")  # absent from items written before the forecast was typed
    return Forecast(
        as_of=date.fromisoformat(d["asOf"]),
        model=str(d["model"]),
        history_days=int(d["historyDays"]),
        month_end=MonthEndProjection(
            month=str(end["month"]),
            actual_to_date=_decimal(end["actualToDate"]),
            forecast_remainder=_decimal(end["forecastRemainder"]),
            projected_total=_decimal(end["projectedTotal"]),
            lower80=_decimal(end["lower80"]),
            upper80=_decimal(end["upper80"]),
            lower95=_decimal(end["lower95"]),
            upper95=_decimal(end["upper95"]),
            days_elapsed=int(end["daysElapsed"]),
            days_remaining=int(end["daysRemaining"]),
            # Absent from forecasts stored before expected charges existed: there were none.
            expected_charges=_decimal(end.get("expectedCharges", "0")),
            expected_by_category={
                k: _decimal(v) for k, v in end.get("expectedByCategory", {}).items()
            },
        ),
        daily=tuple(
            DailyForecast(
                day=date.fromisoformat(p["day"]),
                amount=_decimal(p["amount"]),
                lower80=_decimal(p["lower80"]),
                upper80=_decimal(p["upper80"]),
                lower95=_decimal(p["lower95"]),
                upper95=_decimal(p["upper95"]),
            )
            for p in d.get("daily", [])
        ),
        choice=ModelChoice(
            model=choice["model"],
            # Floats come back from the item's JSON as Decimal; the errors are floats.
            errors={k: None if v is None else float(v) for k, v in choice["errors"].items()},
            origins=int(choice["origins"]),
        )
        if choice
        else None,
    )


def forecast_to_doc(forecast: Mapping[str, Forecast] | None) -> dict[str, Any] | None:
    """A roll-up's forecasts (currency -> ``Forecast``) as the item stores them."""
    if not forecast:
        return None
    return {currency: _forecast_doc(f) for currency, f in forecast.items()}


def forecast_from_doc(doc: Any) -> dict[str, Forecast] | None:
    """The stored forecasts, typed again; reads items of every version written so far."""
    if not doc:
        return None
    return {currency: _forecast_from(d) for currency, d in doc.items()}
