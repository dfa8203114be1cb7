"""Commitment amortisation: a Savings Plan's or a reservation's purchase is spread over the
usage that consumed it, so a purchase is not one person's cost.

A FOCUS export books a commitment's fee (``ChargeCategory = Purchase`` with a
``CommitmentDiscountId``: an all-upfront purchase, or a partial or no-upfront plan's recurring
fee) on the commitment itself, with whatever owner tag its buyer gave it. The usage it
covered carries the same ``CommitmentDiscountId`` (``CommitmentDiscountStatus = Used``), and the
part of the commitment nobody used is a usage line with status ``Unused``.

The rules, applied to the lines of one read before allocation (so assignments, owner tags and
"unallocated" then treat the shares like any other line):

* **Who shares a fee**: every consumer of the commitment in the same calendar month as the fee
  (AWS bills commitments per calendar month, whatever the organisation's own periods) and in
  the same currency. A consumer is a (service, resource, allocation tags) of a ``Used`` line.
* **Weights**: each consumer's ``EffectiveCost`` on the commitment (what it consumed at the
  commitment's rate); if those are all zero, its consumed quantity.
* **The unused part**: the ``EffectiveCost`` of the month's ``Unused`` lines weighs for the
  commitment itself: that share stays on the fee's own line (its resource and tags), which
  allocation then gives to whoever holds the commitment (an assignment of its ARN, or its owner
  tag), or to unallocated for admins to see. Waste is the buyer's to explain, not the users'.
* **No consumer and nothing unused** read in the month: the fee stays as it was read.
* **To the cent, exactly**: each share is the fee times its weight over the total weight,
  rounded half-even at the storage precision (10 places); the largest weight (ties: the first
  consumer in key order) takes the remainder. So the shares of a fee add up to the fee
  exactly, and the organisation's total of every day and currency is unchanged.
* A share is a line of the fee's day, charge category and unit with the consumer's service,
  resource and tags, so it is allocated and shown as "the resource's share of the purchase".

The read is streamed: every line passes through as it comes except commitment fees, which are
held until the read is over (one per commitment and month), then split. Memory grows with the
number of consumers of commitments, not with the number of lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal

from tally.models import CostLine
from tally.money import STORAGE_QUANTUM, ZERO
from tally.sources import CostFetch, FetchLog

PURCHASE = "Purchase"
USAGE = "Usage"
USED = "Used"
UNUSED = "Unused"

# (service, resource id, sorted tags): who consumed a commitment.
Consumer = tuple[str, str, tuple[tuple[str, str], ...]]
# (commitment id, (year, month), currency): the fees and consumption that belong together.
Pool = tuple[str, tuple[int, int], str]


def is_fee(line: CostLine) -> bool:
    """A commitment's purchase or recurring fee."""
    return bool(line.commitment_id) and line.charge_category == PURCHASE


def is_used(line: CostLine) -> bool:
    """Usage covered by a commitment (a line without a status counts as used)."""
    return (
        bool(line.commitment_id)
        and line.charge_category == USAGE
        and (line.commitment_status or USED) == USED
    )


def is_unused(line: CostLine) -> bool:
    """The part of a commitment nobody used."""
    return (
        bool(line.commitment_id)
        and line.charge_category == USAGE
        and line.commitment_status == UNUSED
    )


def _pool(line: CostLine) -> Pool:
    return (str(line.commitment_id), (line.day.year, line.day.month), line.currency)


def _consumer(line: CostLine) -> Consumer:
    return (line.service, line.resource_id or "", tuple(sorted(line.tags.items())))


@dataclass
class _Consumption:
    cost: dict[Consumer, Decimal]
    quantity: dict[Consumer, Decimal]
    unused: Decimal = ZERO


def _portion(amount: Decimal, weight: Decimal, whole: Decimal) -> Decimal:
    return (amount * weight / whole).quantize(STORAGE_QUANTUM, rounding=ROUND_HALF_EVEN)


def split(
    amount: Decimal, weights: dict[Consumer | None, Decimal]
) -> dict[Consumer | None, Decimal]:
    """``amount`` in shares proportional to ``weights`` (positive, not all zero) that add up
    to it exactly: the largest weight (ties: the first key) takes the remainder."""
    whole = sum(weights.values(), ZERO)
    keys = sorted(weights, key=lambda k: ("",) if k is None else k)  # the commitment first
    taker = max(keys, key=lambda k: weights[k])  # max keeps the first of equals
    shares = {k: _portion(amount, weights[k], whole) for k in keys if k != taker}
    shares[taker] = amount - sum(shares.values(), ZERO)
    return shares


class Amortiser:
    """Collects one read's commitment fees and consumption, then splits the fees."""

    def __init__(self) -> None:
        self._fees: list[CostLine] = []
        self._used: dict[Pool, _Consumption] = defaultdict(
            lambda: _Consumption(defaultdict(Decimal), defaultdict(Decimal))
        )

    def offer(self, line: CostLine) -> bool:
        """Take note of ``line``; True when it is a fee to hold back until ``shares``."""
        if is_fee(line):
            self._fees.append(line)
            return True
        if is_used(line):
            consumption = self._used[_pool(line)]
            who = _consumer(line)
            consumption.cost[who] += line.effective_cost
            consumption.quantity[who] += line.usage_quantity
        elif is_unused(line):
            self._used[_pool(line)].unused += line.effective_cost
        return False

    def shares(self) -> Iterator[CostLine]:
        """Each held fee, as shares of its consumers (see the module docstring)."""
        for fee in self._fees:
            yield from self._split(fee)

    def _split(self, fee: CostLine) -> Iterator[CostLine]:
        consumption = self._used.get(_pool(fee))
        weights: dict[Consumer | None, Decimal] = {}
        if consumption is not None:
            by_cost: dict[Consumer | None, Decimal] = {
                k: v for k, v in consumption.cost.items() if v > 0
            }
            if by_cost or consumption.unused > 0:
                weights.update(by_cost)
            else:
                weights.update({k: v for k, v in consumption.quantity.items() if v > 0})
            if consumption.unused > 0:
                weights[None] = consumption.unused  # the commitment's own share
        if not weights:
            yield fee
            return
        billed = split(fee.billed_cost, weights)
        effective = split(fee.effective_cost, weights)
        quantity = split(fee.usage_quantity, weights)
        for who in billed:
            if who is None:
                share = fee
            else:
                service, resource, tags = who
                share = replace(
                    fee,
                    service=service,
                    resource_id=resource or None,
                    tags=dict(tags),
                    commitment_status=None,
                )
            yield replace(
                share,
                billed_cost=billed[who],
                effective_cost=effective[who],
                usage_quantity=quantity[who],
            )


def amortise(lines: Iterable[CostLine]) -> Iterator[CostLine]:
    """``lines`` with every commitment fee replaced by its consumers' shares (last)."""
    amortiser = Amortiser()
    for line in lines:
        if not amortiser.offer(line):
            yield line
    yield from amortiser.shares()


def amortised(fetch: CostFetch) -> CostFetch:
    """``fetch`` with its commitment fees amortised: the same days covered, estimated and
    unavailable, the same requests."""

    def produce(log: FetchLog) -> Iterator[CostLine]:
        amortiser = Amortiser()
        for line in fetch:
            if not amortiser.offer(line):
                yield line
        # The read is over, so its coverage is known: a share of a day found unavailable is
        # dropped by ``CostFetch`` like any line of that day.
        estimated = fetch.estimated_days
        for day in fetch.covered_days:
            log.returned(day, estimated=day in estimated)
        log.unavailable_days.update(fetch.unavailable_days)
        log.requests = fetch.requests
        yield from amortiser.shares()

    return CostFetch(fetch.source_name, fetch.start, fetch.end, produce)


__all__ = ["Amortiser", "amortise", "amortised", "is_fee", "is_unused", "is_used", "split"]
