"""Cost anomalies: days a user's spend on a service (or a large resource) is well above what
the weeks before make usual. Detection is pure (``detect``); ``episodes`` stores findings
once per episode; the alerts evaluation runs both for each user it evaluates and tells the
user through the alerts' channels; ``use_cases`` serves the API."""

from tally.anomalies.detect import Baseline, baseline, detect, history_start, judged_days
from tally.anomalies.model import (
    Anomaly,
    AnomalyRules,
    AnomalyStatus,
    Finding,
    anomaly_id,
    cause_key,
    parse_anomaly_id,
)

__all__ = [
    "Anomaly",
    "AnomalyRules",
    "AnomalyStatus",
    "Baseline",
    "Finding",
    "anomaly_id",
    "baseline",
    "cause_key",
    "detect",
    "history_start",
    "judged_days",
    "parse_anomaly_id",
]
