"""The rates function's settings: the shared ones (``tally.settings``) plus its feed.

- ``TALLY_RATES_URL``: the HTTPS address of an ECB-format reference-rates document; default the
  ECB's daily file. A 90-day history in the same format (``eurofxref-hist-90d.xml``) backfills.
- ``TALLY_RATES_SOURCE``: the source name the rates are stored under; default ``ecb``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from tally.settings import ConfigurationError, Environment, FunctionSettings

RATES_URL = "TALLY_RATES_URL"
RATES_SOURCE = "TALLY_RATES_SOURCE"
ECB_DAILY_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"


@dataclass(frozen=True)
class RatesSettings(FunctionSettings):
    rates_url: str = ECB_DAILY_URL
    rates_source: str = "ecb"

    variables: ClassVar[tuple[str, ...]] = (RATES_URL, RATES_SOURCE)

    @classmethod
    def parse(cls, env: Environment) -> dict[str, Any]:
        url = (env[RATES_URL] or "").strip() or ECB_DAILY_URL
        if not url.startswith("https://"):
            raise ConfigurationError(f"{RATES_URL} must be an https:// address")
        source = (env[RATES_SOURCE] or "").strip() or "ecb"
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,31}", source) or source == "manual":
            raise ConfigurationError(f"{RATES_SOURCE} must be a short lowercase name, not manual")
        return {"rates_url": url, "rates_source": source}
