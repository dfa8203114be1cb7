"""A Lambda function's right-sizing suggestion and what a memory change does to its cost,
from the cached CloudWatch totals (``FunctionMetrics``: invocations and duration over the
inventory's window), never from a call to AWS.

Lambda bills GB-seconds (memory x duration) and requests. Without the memory each invocation
used (that is in the function's logs, not in its metrics) the suggestion is a heuristic, and
says so: an idle function needs the least memory (or a pause); very short invocations rarely
gain from more memory; invocations that use half the timeout or more may be CPU-bound and
gain from more (Lambda gives a full vCPU at 1,769 MB). Costs assume the duration per
invocation stays the same, which overstates a saving from less memory when the function is
CPU-bound: the preview says so beside the figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from tally.estate.models import FunctionMetrics, LambdaFunction

CURRENCY = "USD"
# us-east-1 list prices (per GB-second by architecture, per request); other regions differ by
# a few percent. Documented in the user guide beside the figures.
GB_SECOND = {"x86_64": Decimal("0.0000166667"), "arm64": Decimal("0.0000133334")}
PER_REQUEST = Decimal("0.0000002")
DAYS_PER_MONTH = Decimal(30)
CENT = Decimal("0.01")
SHORT_MS = 100.0
FULL_VCPU_MB = 1769
MIN_MEMORY_MB = 128
ASSUMPTION = "the same duration per invocation at the new memory size"


@dataclass(frozen=True)
class Sizing:
    memory: int
    timeout: int
    reasons: tuple[str, ...]
    monthly_cost_now: Decimal | None  # None: no metrics cached for the function
    monthly_cost_suggested: Decimal | None
    # The memory an UpdateFunctionConfiguration asks for, at the same rate of use.
    monthly_cost_requested: Decimal | None = None


def monthly_cost(
    function: LambdaFunction, metrics: FunctionMetrics | None, memory: int
) -> Decimal | None:
    """The function's cost for 30 days at its cached rate of use, at ``memory`` MB."""
    if metrics is None:
        return None
    days = Decimal(str((metrics.end - metrics.start).total_seconds())) / Decimal(86400)
    if days <= 0:
        return None
    invocations = Decimal(metrics.invocations) * DAYS_PER_MONTH / days
    seconds = Decimal(str(metrics.duration_avg_ms or 0)) / Decimal(1000)
    rate = GB_SECOND.get(function.architecture, GB_SECOND["x86_64"])
    compute = invocations * seconds * Decimal(memory) / Decimal(1024) * rate
    cost = compute + invocations * PER_REQUEST
    return cost.quantize(CENT, rounding=ROUND_HALF_UP)


def suggest(function: LambdaFunction, metrics: FunctionMetrics | None) -> Sizing:
    memory, timeout, reasons = function.memory, function.timeout, []
    if metrics is None:
        reasons.append("no metrics cached yet: refresh the metrics to get a suggestion")
    elif metrics.invocations == 0:
        memory = MIN_MEMORY_MB
        reasons.append(
            "idle: no invocations in the last "
            f"{(metrics.end - metrics.start).days} days; the least memory costs least when it "
            "runs, and reserved concurrency 0 pauses it"
        )
    else:
        average = metrics.duration_avg_ms or 0.0
        if average <= SHORT_MS and function.memory > 2 * MIN_MEMORY_MB:
            memory = max(MIN_MEMORY_MB, function.memory // 2)
            reasons.append(
                f"invocations average {average:.0f} ms: short invocations rarely gain from "
                "more memory"
            )
        elif average >= function.timeout * 500 and function.memory < FULL_VCPU_MB:
            memory = min(FULL_VCPU_MB, function.memory * 2)
            reasons.append(
                f"invocations average {average:.0f} ms, half the timeout or more: more memory "
                "brings more CPU"
            )
        if metrics.duration_max_ms is not None:
            # One and a half times the longest invocation seen, in whole seconds, at least 3.
            needed = max(3, math.ceil(metrics.duration_max_ms * 1.5 / 1000))
            if needed < function.timeout:
                timeout = needed
                reasons.append(
                    f"the longest invocation took {metrics.duration_max_ms:.0f} ms: a timeout "
                    f"of {needed} s stops a stuck invocation sooner"
                )
            elif metrics.duration_max_ms >= function.timeout * 800:
                timeout = min(900, needed)
                reasons.append(
                    f"the longest invocation took {metrics.duration_max_ms:.0f} ms, near the "
                    "timeout: some invocations may be timing out"
                )
    if not reasons:
        reasons.append("the current memory and timeout fit the cached metrics")
    return Sizing(
        memory=memory,
        timeout=timeout,
        reasons=tuple(reasons),
        monthly_cost_now=monthly_cost(function, metrics, function.memory),
        monthly_cost_suggested=monthly_cost(function, metrics, memory),
    )
