"""Chargeback: a month's costs per team, department or cost center, with each unit's share of
the shared and of the unallocated costs; the units partition the organisation to the cent.

- ``model``: the report's values, the grouping and the unallocated rule (its setting);
- ``partition``: the arithmetic on plain values (splits, distribution);
- ``build``: the report from the stores (``chargeback`` for the API, ``build_chargeback``);
- ``export``: the CSV file, and ``pdf``: a statement per unit (fpdf2, loaded on first use).

The rules are in docs/user-guide.md ("Chargeback").
"""

from tally.chargeback.build import build_chargeback, chargeback, check_month, is_shared
from tally.chargeback.model import (
    NO_TEAM,
    NO_UNIT,
    RULE_VARIABLE,
    Chargeback,
    ChargebackUnit,
    Figures,
    GroupBy,
    UnallocatedRule,
    unallocated_rule,
)
from tally.chargeback.partition import OwnerMonth, distribute, partition, split_equally

__all__ = [
    "NO_TEAM",
    "NO_UNIT",
    "RULE_VARIABLE",
    "Chargeback",
    "ChargebackUnit",
    "Figures",
    "GroupBy",
    "OwnerMonth",
    "UnallocatedRule",
    "build_chargeback",
    "chargeback",
    "check_month",
    "distribute",
    "is_shared",
    "partition",
    "split_equally",
    "unallocated_rule",
]
