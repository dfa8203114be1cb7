"""Issue 13's screens in Chromium against the session's local stack (demo organisation): the
nav by permission and the "no access" page, roles (a custom role created in the UI, assigned,
and explained by the effective access view), the team tree, a team manager's team page with
its members' costs and budget, and the audit log; in light and dark for the user guide."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Api, Session, user_id_of

ADMIN_NAV = ("Roles", "Audit log", "Teams")


def signed_in(open_page: Any, username: str) -> Session:
    session: Session = open_page()
    session.sign_in(username)
    session.wait_idle()
    return session


def show(session: Session, route: str) -> None:
    session.go(route)
    session.wait_idle()


def nav_links(session: Session) -> list[str]:
    """The menu once GET /api/me has answered (the first screen does not wait for it; the
    menu is built again from its permissions)."""
    session.page.locator("nav.nav[data-me=known]").wait_for()
    links = session.page.locator("nav.nav a[data-route]")
    return [text.strip() for text in links.all_inner_texts()]


def test_screenshots_of_roles_and_teams(open_page: Any, api: Api) -> None:
    admin = signed_in(open_page, "admin")
    show(admin, "#/roles")
    admin.page.locator("[data-role=finance]").wait_for()
    admin.screenshot("access-roles")
    admin.page.get_by_role("button", name="New role").click()
    admin.page.get_by_role("dialog").wait_for()
    admin.screenshot("access-role-form")
    admin.page.get_by_role("button", name="Cancel").click()
    show(admin, "#/teams")
    admin.page.locator("[data-testid=team-tree] [data-team=payments]").wait_for()
    admin.screenshot("access-teams")
    show(admin, "#/teams/payments")
    admin.page.locator("[data-testid=team-figures]").wait_for()
    admin.screenshot("access-team-page")
    bob = user_id_of(admin.local_json, "bob")
    show(admin, f"#/users/{bob}/access?name=bob")
    admin.page.locator("[data-testid=access-table]").wait_for()
    admin.screenshot("access-effective")
    show(admin, "#/audit")
    admin.screenshot("access-audit-log")

    manager = signed_in(open_page, "dave")
    show(manager, "#/teams/payments")
    manager.page.locator("[data-testid=team-members]").wait_for()
    manager.screenshot("access-manager-team")

    member = signed_in(open_page, "alice")
    show(member, "#/roles")
    member.screenshot("access-no-access")


def test_a_member_sees_no_admin_nav_and_is_refused_a_direct_url(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "alice")
    page = session.page
    links = nav_links(session)
    for title in (*ADMIN_NAV, "My teams", "All users"):
        assert title not in links, links
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    show(session, "#/roles")
    refusal = page.locator("[data-testid=not-allowed]")
    assert refusal.is_visible()
    assert refusal.get_attribute("data-permission") == "roles:read"
    assert "You do not have access" in refusal.inner_text()
    assert "administrator" in refusal.inner_text()
    show(session, "#/audit")
    assert (
        page.locator("[data-testid=not-allowed]").get_attribute("data-permission") == "audit:read"
    )
    # The page never asked for what it may not show, and the API refuses it anyway.
    assert not [u for u in requests if "/api/roles" in u or "/api/audit" in u], requests
    # (A member may read the teams they belong to, not their costs.)
    for path in ("/roles", "/audit", "/billing/team/payments/summary"):
        status, body, _ = api.call("alice", "GET", path)
        assert status == 403, (path, status, body)


def test_admin_creates_a_role_assigns_it_and_the_access_view_explains_it(
    open_page: Any, api: Api
) -> None:
    session = signed_in(open_page, "admin")
    page = session.page
    assert set(ADMIN_NAV) <= set(nav_links(session))
    show(session, "#/roles")
    # Built-in roles are shown, and cannot be changed.
    admin_card = page.locator("[data-role=admin]")
    assert "read-only" in admin_card.inner_text()
    assert admin_card.get_by_role("button", name="Edit").count() == 0

    page.get_by_role("button", name="New role").click()
    form = page.locator("[data-testid=role-form]")
    form.get_by_label("Name").fill("Team reader")
    form.get_by_label("Role id (optional)").fill("team-reader")
    form.get_by_label("Description").fill("Reads teams, nothing else")
    form.locator("input[value='teams:read']").check()
    form.get_by_role("button", name="Create role").click()
    card = page.locator("[data-role=team-reader]")
    card.wait_for()
    assert "teams:read" in card.inner_text()
    assert "custom" in card.inner_text()

    carol = user_id_of(session.local_json, "carol")
    before = api.get("admin", f"/users/{carol}/roles")["roles"]
    try:
        show(session, f"#/users/{carol}/access?name=carol")
        page.locator("#grant-role").select_option("team-reader")
        page.locator("#grant-scope").select_option("org")
        page.get_by_role("button", name="Add role").click()
        page.locator("[data-grant='team-reader@org']").wait_for()
        page.get_by_role("button", name="Save roles").click()
        row = page.locator(
            "[data-testid=access-table] tr[data-permission='teams:read'][data-scope=org]"
        )
        row.wait_for()
        assert "Team reader for the organisation, given to them" in row.inner_text()
        # The page says what the API says.
        held = api.get("admin", f"/users/{carol}/access")
        line = next(
            p
            for p in held["permissions"]
            if p["permission"] == "teams:read" and p["scope"] == "org"
        )
        assert {g["roleId"] for g in line["grantedBy"]} == {"team-reader"}
    finally:
        status, body, _ = api.call("admin", "PUT", f"/users/{carol}/roles", {"roles": before})
        assert status == 200, body
        status, body, _ = api.call("admin", "DELETE", "/roles/team-reader")
        assert status == 204, body

    # Every change is in the audit log, with its before and after.
    show(session, "#/audit?subject=role:team-reader")
    audit = page.locator("[data-testid=audit-table]")
    audit.wait_for()
    actions = audit.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert "role.created" in actions and "role.deleted" in actions, actions


def test_a_team_manager_sees_their_team_and_sets_its_budget(open_page: Any, api: Api) -> None:
    session = signed_in(open_page, "dave")
    page = session.page
    links = nav_links(session)
    assert "My teams" in links and "Roles" not in links and "Audit log" not in links, links
    page.get_by_role("link", name="My teams").click()
    page.locator("[data-testid=team-tree] [data-team=payments]").wait_for()

    show(session, "#/teams/payments")
    summary = api.get("dave", "/billing/team/payments/summary")
    members = page.locator("[data-testid=team-members] tbody tr[data-user]")
    shown = set(members.evaluate_all("rows => rows.map(r => r.dataset.user)"))
    assert shown == {m["userId"] for m in summary["members"]}
    assert user_id_of(session.local_json, "alice") in shown

    # The demo's team budget, put back afterwards for the other tests.
    status, before, _ = api.call("dave", "GET", "/billing/budgets/team/payments")
    try:
        page.locator("[data-testid=edit-team-budget]").click()
        form = page.locator("[data-testid=budget-form]")
        form.locator("button[type=submit]:enabled").wait_for()
        form.locator("input[name=monthlyLimit]").fill("640")
        form.locator("button[type=submit]").click()
        page.get_by_role("dialog").wait_for(state="detached")
        page.locator("[data-testid=team-budget] [data-value=limit]", has_text="640").wait_for()
        budget = api.get("dave", "/billing/budgets/team/payments")
        assert budget["monthlyLimit"]["amount"] in ("640", "640.00")
    finally:
        if status == 200:
            api.call(
                "admin",
                "PUT",
                f"/billing/budgets/{before['budgetId']}",
                {"monthlyLimit": before["monthlyLimit"]["amount"]},
            )

    # Another team's page is refused, in words, by the page and by the API.
    session.console.expect(r"status of 403")
    show(session, "#/teams/data")
    assert page.locator("[data-testid=not-allowed]").is_visible()
    status, _, _ = api.call("dave", "GET", "/billing/team/data/summary")
    assert status == 403


def test_the_team_form_finds_people_by_a_filter(open_page: Any, api: Api) -> None:
    """The members and managers are chosen in a filtered list (the chosen first), never a
    checkbox per user of the organisation; Enter in the filter does not send the form and
    Escape clears the filter before it closes the dialog."""
    session = signed_in(open_page, "admin")
    page = session.page
    show(session, "#/teams")
    page.locator("[data-testid=team-tree] [data-team=payments]").wait_for()
    page.get_by_role("button", name="Edit Payments").click()
    form = page.locator("[data-testid=team-form]")
    form.wait_for()
    members = form.locator("[data-testid=members-list]")
    shown = members.locator("input[type=checkbox]")
    # Payments' members, alice and bob, come first.
    names = members.locator("label").all_inner_texts()
    assert names[:2] == ["alice", "bob"], names
    assert shown.nth(0).is_checked() and shown.nth(1).is_checked()

    search = form.get_by_label("Find members")
    search.fill("CAR")
    assert members.locator("label").all_inner_texts() == ["carol"]
    assert "1 person matches" in form.locator("[data-field=members] [aria-live]").inner_text()
    search.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") == user_id_of(session.local_json, "carol")
    page.keyboard.press("Space")
    search.fill("nobody-by-this-name")
    search.press("Enter")  # not a submit
    assert form.is_visible()
    assert "no one matches" in form.locator("[data-field=members] [aria-live]").inner_text()
    search.press("Escape")  # clears the filter; the dialog stays
    assert form.is_visible() and search.input_value() == ""
    # Chosen by the filter, carol stays chosen and joins the chosen at the top.
    checked = members.locator("input:checked").evaluate_all("boxes => boxes.map(b => b.value)")
    assert user_id_of(session.local_json, "carol") in checked
    session.screenshot("access-team-form")
    form.get_by_role("button", name="Cancel").click()
    page.get_by_role("dialog").wait_for(state="detached")
    # Nothing was saved.
    team = api.get("admin", "/teams/payments")
    assert user_id_of(session.local_json, "carol") not in team["members"]


def test_the_team_page_links_back_to_the_teams_its_reader_may_list(
    open_page: Any, api: Api
) -> None:
    admin = signed_in(open_page, "admin")
    show(admin, "#/teams/payments")
    admin.page.locator("[data-testid=team-figures]").wait_for()
    assert admin.page.locator("[data-testid=back-to-teams]").inner_text() == "← All teams"

    manager = signed_in(open_page, "dave")
    show(manager, "#/teams/payments")
    manager.page.locator("[data-testid=team-figures]").wait_for()
    back = manager.page.locator("[data-testid=back-to-teams]")
    assert back.inner_text() == "← My teams"
    # The team's budget form speaks of the team, not of "your" status.
    manager.page.locator("[data-testid=edit-team-budget]").click()
    form = manager.page.locator("[data-testid=budget-form]")
    form.wait_for()
    hint = form.locator("[data-field=alertThreshold] .field-hint").inner_text()
    assert hint.startswith("The team's status turns to Approaching Limit"), hint
    form.get_by_role("button", name="Cancel").click()
    manager.page.get_by_role("dialog").wait_for(state="detached")
    back.click()
    manager.page.locator("[data-testid=team-tree] [data-team=payments]").wait_for()
