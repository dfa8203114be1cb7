"""Input rules that live in the API models rather than in the routes (the HTTP side of each
is in test_bad_input.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.schemas import BudgetUpdateIn, ClaimIn


def test_a_budget_update_must_change_something() -> None:
    with pytest.raises(ValidationError) as refused:
        BudgetUpdateIn.model_validate({})
    assert refused.value.errors()[0]["loc"] == ()
    assert "give monthlyLimit, alertThreshold, effectiveFrom or several" in str(refused.value)
    for one in ({"monthlyLimit": "0"}, {"alertThreshold": 0}, {"effectiveFrom": "2028-02"}):
        BudgetUpdateIn.model_validate(one)


@pytest.mark.parametrize(
    ("note", "kept"), [("", None), ("   ", None), (None, None), (" hi ", "hi")]
)
def test_a_blank_claim_note_is_no_note(note: str | None, kept: str | None) -> None:
    claim = ClaimIn.model_validate(
        {"resourceType": "ec2", "resourceId": "i-0123456789abcdef0", "note": note}
    )
    assert claim.note == kept
