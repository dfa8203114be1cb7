"""The read side: what users and admins are shown of costs and budgets.

- ``costs``: an owner's costs over a date range (``cost_report``), from roll-ups;
- ``summary``: a user's month against their budget (``month_summary``), from roll-ups, and
  what it depends on (``summary_version``, for the API's ETag);
- ``org_month``: the admin's month of every user and the organisation (``all_users``), from
  roll-ups;
- ``changes``: a month against the one before by service, and the waterfall that explains
  the difference (``month_over_month``), from roll-ups and two months of cost records;
- ``lines``: the cost lines of the details table (``cost_lines``): the one read model that
  reads the cost records themselves (a bounded range, Queries on one owner's partition);
- ``currency`` (the currency a view is shown in) and ``periods`` (date ranges, when a month's
  figures are expected and final) serve them all.

The roll-up read models make a constant number of DynamoDB calls whatever the amount of
data. Month arithmetic lives in ``tally.calendar``. The names below are the package's public
face (the API loads ``tally.reports`` lazily and calls these).
"""

from tally.reports.changes import (
    MonthOverMonth,
    ServiceChange,
    Waterfall,
    WaterfallStep,
    month_over_month,
)
from tally.reports.converted import converted_month
from tally.reports.costs import CostReport, cost_report
from tally.reports.currency import Money, pick_currency
from tally.reports.lines import LINE_SORTS, MAX_LINES_RANGE_DAYS, CostLinesPage, cost_lines
from tally.reports.org_month import (
    Attribution,
    OrgMonth,
    OrgPreviousMonth,
    UserMonth,
    UserPreviousMonth,
    all_users,
    attribution,
)
from tally.reports.periods import (
    COST_DELAY_DAYS,
    DEFAULT_RANGE_DAYS,
    MAX_RANGE_DAYS,
    first_costs_expected,
    month_is_final,
    resolve_range,
)
from tally.reports.summary import (
    MonthBudget,
    MonthResult,
    Summary,
    judge,
    month_summary,
    summary_version,
)

__all__ = [
    "COST_DELAY_DAYS",
    "DEFAULT_RANGE_DAYS",
    "LINE_SORTS",
    "MAX_LINES_RANGE_DAYS",
    "MAX_RANGE_DAYS",
    "Attribution",
    "CostLinesPage",
    "CostReport",
    "Money",
    "MonthBudget",
    "MonthOverMonth",
    "MonthResult",
    "OrgMonth",
    "OrgPreviousMonth",
    "ServiceChange",
    "Summary",
    "UserMonth",
    "UserPreviousMonth",
    "Waterfall",
    "WaterfallStep",
    "all_users",
    "attribution",
    "converted_month",
    "cost_lines",
    "cost_report",
    "first_costs_expected",
    "judge",
    "month_is_final",
    "month_over_month",
    "month_summary",
    "pick_currency",
    "resolve_range",
    "summary_version",
]
