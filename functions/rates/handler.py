"""The rates function: once a day (EventBridge, infra/constructs/rates.py) it reads the
configured reference-rates document (default the ECB's daily XML) and stores its rates.

Idempotent: a rate's key is its pair, day and source, so a retried or repeated run writes the
very same items (a day's rates published twice are one set). A document that cannot be read
or parsed stores nothing and fails the invocation, so the errors alarm sees it.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit

from rates.settings import RatesSettings
from tally import observability
from tally.rates.ecb import parse_reference_rates

if TYPE_CHECKING:
    from tally.store.rates import RateStore

SERVICE = "tally-rates"
logger = Logger(service=SERVICE)
tracer = observability.tracer(SERVICE)
metrics = observability.metrics(SERVICE)
observability.start_error_tracking(SERVICE)

Fetch = Callable[[str], bytes]
TIMEOUT_SECONDS = 20
MAX_BYTES = 2_000_000  # the 90-day history is about 100 kB


def fetch_https(url: str) -> bytes:
    """The document at ``url`` (https only: the setting refuses anything else)."""
    if not url.startswith("https://"):
        raise ValueError("rates are read over https only")
    # https only, checked above (and by the setting): no file: or custom scheme reaches here.
    request = urllib.request.Request(url, headers={"User-Agent": "tally-rates"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        body: bytes = response.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise ValueError(f"the rates document is over {MAX_BYTES} bytes")
    return body


@lru_cache(maxsize=1)
def _store() -> RateStore:
    from tally.store.rates import dynamodb_store

    return dynamodb_store(RatesSettings.load())


def run(settings: RatesSettings, *, store: RateStore, fetch: Fetch) -> dict[str, Any]:
    """Read the feed and store its rates; the summary says what was stored."""
    rates = parse_reference_rates(fetch(settings.rates_url), source=settings.rates_source)
    written = store.put_many(rates)
    days = sorted({r.day for r in rates})
    summary = {
        "source": settings.rates_source,
        "written": written,
        "first": days[0].isoformat(),
        "last": days[-1].isoformat(),
        "currencies": len({r.quote for r in rates}),
    }
    logger.info("rates stored", extra=summary)
    metrics.add_metric(name="RatesStored", unit=MetricUnit.Count, value=written)
    return summary


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def lambda_handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    return run(RatesSettings.load(), store=_store(), fetch=fetch_https)
