"""The roll-up's forecast as the item stores it: typed in, typed out, and items written before
the forecast was typed (the API's camelCase dict, stored as it was) still read."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tally.forecast import DailyForecast, Forecast, MonthEndProjection
from tally.forecast.projection import forecast
from tally.store.attributes import DecimalJSONAttribute
from tally.store.codec import forecast_from_doc, forecast_to_doc

# What the code before this change stored: ``Forecast.to_dict()`` per currency.
OLD_ITEM: dict[str, Any] = {
    "EUR": {
        "asOf": "2026-11-19",
        "model": "weekday",
        "historyDays": 28,
        "monthEnd": {
            "month": "2026-11",
            "actualToDate": "190.00",
            "forecastRemainder": "111.50",
            "projectedTotal": "301.50",
            "lower80": "290.10",
            "upper80": "312.90",
            "lower95": "284.00",
            "upper95": "319.00",
            "daysElapsed": 19,
            "daysRemaining": 11,
            "expectedCharges": "1.50",
            "expectedByCategory": {"Tax": "1.50"},
        },
        "daily": [
            {
                "day": "2026-11-20",
                "amount": "10.00",
                "lower80": "8.96",
                "upper80": "11.04",
                "lower95": "8.40",
                "upper95": "11.60",
            }
        ],
    }
}


def stored(doc: Any) -> Any:
    """Through the item's attribute, as DynamoDB gives it back (numbers as Decimal)."""
    attribute = DecimalJSONAttribute(null=True)
    return attribute.deserialize(attribute.serialize(doc))


def test_an_item_written_before_the_forecast_was_typed_reads_back() -> None:
    found = forecast_from_doc(stored(OLD_ITEM))
    assert found == {
        "EUR": Forecast(
            as_of=date(2026, 11, 19),
            model="weekday",
            history_days=28,
            month_end=MonthEndProjection(
                month="2026-11",
                actual_to_date=Decimal("190.00"),
                forecast_remainder=Decimal("111.50"),
                projected_total=Decimal("301.50"),
                lower80=Decimal("290.10"),
                upper80=Decimal("312.90"),
                lower95=Decimal("284.00"),
                upper95=Decimal("319.00"),
                days_elapsed=19,
                days_remaining=11,
                expected_charges=Decimal("1.50"),
                expected_by_category={"Tax": Decimal("1.50")},
            ),
            daily=(
                DailyForecast(
                    date(2026, 11, 20),
                    Decimal("10.00"),
                    Decimal("8.96"),
                    Decimal("11.04"),
                    Decimal("8.40"),
                    Decimal("11.60"),
                ),
            ),
        )
    }
    # Cents stay cents: the API prints what was stored.
    assert str(found["EUR"].month_end.projected_total) == "301.50"


def test_an_item_from_before_expected_charges_expects_none() -> None:
    old = {"USD": {**OLD_ITEM["EUR"], "monthEnd": dict(OLD_ITEM["EUR"]["monthEnd"])}}
    del old["USD"]["monthEnd"]["expectedCharges"], old["USD"]["monthEnd"]["expectedByCategory"]
    found = forecast_from_doc(stored(old))
    assert found is not None
    assert found["USD"].month_end.expected_charges == 0
    assert found["USD"].month_end.expected_by_category == {}


def test_a_forecast_round_trips_exactly_with_its_model_choice() -> None:
    history = {date(2026, 10, 1) + timedelta(days=n): Decimal(10 + n % 7) for n in range(61)}
    made = forecast(history, as_of=date(2026, 11, 30))
    assert made.choice is not None and made.choice.origins > 0  # floats in the item too
    assert forecast_from_doc(stored(forecast_to_doc({"USD": made}))) == {"USD": made}


def test_the_new_document_is_the_old_one_plus_the_model_choice() -> None:
    # One format for both versions: an older deployment still reads what this one writes.
    made = forecast_from_doc(OLD_ITEM)
    assert forecast_to_doc(made) == OLD_ITEM


def test_no_forecast_is_none_either_way() -> None:
    assert forecast_to_doc(None) is None and forecast_to_doc({}) is None
    assert forecast_from_doc(None) is None and forecast_from_doc({}) is None
