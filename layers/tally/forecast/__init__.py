"""Forecasts of daily cost: the rest of the month and the next 30 days, with 80%/95% bands.

Four jobs, one module each:

* ``result``: what a forecast says, as types (``Forecast``, its ``MonthEndProjection`` and
  ``DailyForecast`` points). The store encodes them (``tally.store.codec``), the API converts
  them (``api.convert``); neither loads the statistics, so only these are exported here.
* ``stats``: the statistics kernel (Student's t, matrix helpers, the censored mean).
* ``fitting``: the models (least squares on recent daily usage), their prediction intervals,
  and ``select_model``, which backtests them on the series' own past.
* ``projection``: the public ``forecast()`` of usage plus the recurring charges expected on
  top (``expected_charges``); its docstring states the rules.
* ``backtest``: the month-end backtest that ``make bench`` prints.

The ingest job computes forecasts (``from tally.forecast.projection import forecast``); a
request only reads the stored result.
"""

from tally.forecast.result import (
    FALLBACK_MEAN,
    NO_HISTORY,
    USAGE,
    DailyForecast,
    Forecast,
    ModelChoice,
    ModelName,
    MonthEndProjection,
)

__all__ = [
    "FALLBACK_MEAN",
    "NO_HISTORY",
    "USAGE",
    "DailyForecast",
    "Forecast",
    "ModelChoice",
    "ModelName",
    "MonthEndProjection",
]
