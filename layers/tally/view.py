"""What a use case sees of the request it serves: who asks, the stores, the business date,
the cost metric and the default currency. The API builds one per request
(``api.context.view(router)``); tests build one directly. Collaborators that only some use
cases need (the user directory, the resource catalog, a notifier, a clock for the timestamps a
write stores) stay explicit keyword arguments of those use cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from tally.models import Metric

if TYPE_CHECKING:
    from tally.identity import Caller
    from tally.store import Stores


@dataclass(frozen=True)
class View:
    caller: Caller
    stores: Stores
    today: date
    metric: Metric = Metric.EFFECTIVE
    currency: str = "USD"  # shown when neither a budget nor the costs name one
