"""A team's display currency (issue 17): set and cleared by who may manage the team (its
managers, finance, admins), refused to its members, an ISO 4217 code or nothing, audited as a
team change, and kept when the team itself is rewritten."""

from __future__ import annotations

import json

import pytest

from tally.errors import Conflict, Forbidden, Invalid, NotFound
from tally.org import grants, teams
from tally.store import Stores
from tests.org.conftest import clock, view_of
from tests.org.test_teams import PAYMENTS, demo


@pytest.fixture
def org(org_stores: Stores) -> Stores:
    demo(org_stores)  # payments: alice and bob, managed by dave
    grants.set_user_roles(view_of(org_stores, "u-admin"), "u-fiona", [("finance", "org")])
    return org_stores


def test_a_team_has_none_until_set_and_its_manager_sets_and_clears_it(org: Stores) -> None:
    assert teams.get_team(view_of(org, "u-admin"), "payments").display_currency is None
    dave = view_of(org, "u-dave")  # payments' manager: not teams:write, budgets:write on it

    saved = teams.set_display_currency(dave, "payments", "GBP", clock=clock)

    assert (saved.display_currency, saved.version) == ("GBP", 2)
    assert teams.get_team(dave, "payments").display_currency == "GBP"
    entry = org.audit.list_for_user("team:payments", 10).items[0]
    assert (entry.action, entry.actor) == ("team.updated", "u-dave")
    assert json.loads(entry.details["before"])["displayCurrency"] is None
    assert json.loads(entry.details["after"])["displayCurrency"] == "GBP"

    cleared = teams.set_display_currency(dave, "payments", None, clock=clock)
    assert (cleared.display_currency, cleared.version) == (None, 3)


def test_finance_and_admins_set_it_members_and_other_managers_may_not(org: Stores) -> None:
    assert teams.set_display_currency(view_of(org, "u-fiona"), "payments", "EUR").version == 2
    assert teams.set_display_currency(view_of(org, "u-admin"), "data", "JPY").version == 2
    before = org.audit.list_for_user("team:payments", 10).items
    for who, team_id in (("u-alice", "payments"), ("u-carol", "payments"), ("u-dave", "data")):
        # alice is a member of payments; carol manages data, not payments; dave is in data.
        with pytest.raises(Forbidden):
            teams.set_display_currency(view_of(org, who), team_id, "GBP")
    assert teams.get_team(view_of(org, "u-admin"), "payments").display_currency == "EUR"
    assert org.audit.list_for_user("team:payments", 10).items == before


def test_a_bad_code_is_refused_on_its_field_and_changes_nothing(org: Stores) -> None:
    admin = view_of(org, "u-admin")
    for bad in ("gbp", "XYZ", "GB", "EURO"):
        with pytest.raises(Invalid) as refused:
            teams.set_display_currency(admin, "payments", bad)
        assert [e.field for e in refused.value.errors] == ["displayCurrency"]
    assert teams.get_team(admin, "payments").version == 1


def test_a_missing_team_a_stale_read_and_a_change_that_changes_nothing(org: Stores) -> None:
    admin = view_of(org, "u-admin")
    with pytest.raises(NotFound):
        teams.set_display_currency(admin, "ghosts", "GBP")
    with pytest.raises(Forbidden):  # the same refusal as any, for one who reads no team list
        teams.set_display_currency(view_of(org, "u-dave"), "ghosts", "GBP")
    teams.set_display_currency(admin, "payments", "GBP", expected_version=1)
    with pytest.raises(Conflict):
        teams.set_display_currency(admin, "payments", "EUR", expected_version=1)
    # The currency it already has: no write, no audit entry, the same version.
    entries = len(org.audit.list_for_user("team:payments", 10).items)
    assert teams.set_display_currency(admin, "payments", "GBP").version == 2
    assert len(org.audit.list_for_user("team:payments", 10).items) == entries


def test_rewriting_the_team_keeps_its_display_currency(org: Stores) -> None:
    admin = view_of(org, "u-admin")
    teams.set_display_currency(admin, "payments", "GBP", clock=clock)
    changed = teams.update_team(admin, "payments", PAYMENTS, clock=clock)
    assert (changed.display_currency, changed.version) == ("GBP", 3)
