"""Issue 15's dashboard acceptance, in Chromium against the local stack's demo estate: the
Lambda functions (flags, owners, claim/assign), a function's usage and cost chart with its range
picker, the network's topology (keyboard reachable, labels inside their boxes, a list at phone
width, its layout library loaded only there), the IAM users with their CIS findings, what a
member may see, the management actions' preview-then-confirm dialog, and the screenshots.

The demo estate (``infra/local/estate.py``): five functions (one erroring, one idle, one on a
deprecated runtime), a VPC with public and private subnets, a NAT gateway, an internet gateway,
an S3 gateway endpoint, a forgotten Elastic IP, a security group open to the world on port 22,
and three IAM users (console without MFA, a 200-day-old key, unused for 60 days).
"""

from __future__ import annotations

import json
from typing import Any

from tests.browser.conftest import PHONE, Session, fulfil, real_answer

ERRORING = "tally-demo-orders-sync"
IDLE = "tally-demo-legacy-thumbnails"
OWNED_BY_ALICE = "tally-demo-checkout-api"


def signed_in(open_page: Any, username: str, **kw: Any) -> Session:
    session: Session = open_page(**kw)
    session.sign_in(username)
    return session


def at(session: Session, route: str) -> None:
    session.go(route)
    # A function's detail reads CloudWatch and its log group (FilterLogEvents) through the
    # emulator: slower than the cached views on a busy machine.
    session.page.wait_for_function(
        "() => !document.querySelector('[aria-busy=true]')", timeout=60_000
    )


def row(session: Session, name: str) -> Any:
    return session.page.locator(f"tr[data-function='{name}']")


# --- screenshots (the user guide's pictures) ---------------------------------------------


def test_estate_screenshots(open_page: Any) -> None:
    """Each estate screen in light and dark, and at phone width; `make screenshots` keeps them
    in docs/screenshots for the user guide."""
    admin = signed_in(open_page, "admin")
    at(admin, "#/estate")
    admin.screenshot("estate-lambda")
    at(admin, f"#/estate/lambda/{ERRORING}")
    admin.page.locator("canvas[data-chart='usage-cost'][data-drawn='true']").wait_for()
    # The demo's erroring function logged failures yesterday: the detail lists them.
    admin.page.locator("[data-testid=recent-errors] li").first.wait_for()
    admin.screenshot("estate-lambda-detail")
    at(admin, "#/estate/network")
    admin.page.locator("svg.topology").first.wait_for()
    admin.screenshot("estate-network")
    admin.page.locator(".topology-node[data-kind='nat']").first.focus()
    admin.page.keyboard.press("Enter")
    admin.page.locator("[data-testid=node-details]").wait_for()
    # The page scrolled to the node: back to the top, and the window only (a modal's backdrop
    # covers the window, not a full-page picture).
    admin.page.evaluate("window.scrollTo(0, 0)")
    for scheme in ("light", "dark"):
        admin.page.emulate_media(color_scheme=scheme)
        admin.page.wait_for_timeout(150)
        admin.page.screenshot(path=str(admin.shots / f"estate-network-node-{scheme}.png"))
    admin.page.emulate_media(color_scheme="light")
    admin.page.keyboard.press("Escape")
    at(admin, "#/estate/iam")
    admin.screenshot("estate-iam")

    phone = signed_in(open_page, "admin", viewport=PHONE)
    at(phone, "#/estate")
    phone.screenshot("phone-estate-lambda")
    at(phone, "#/estate/network")
    phone.page.locator("[data-testid=topology-list]").wait_for()
    phone.screenshot("phone-estate-network")
    at(phone, "#/estate/iam")
    phone.screenshot("phone-estate-iam")


# --- reading -----------------------------------------------------------------------------


def test_functions_show_owners_costs_and_flags(open_page: Any) -> None:
    session = signed_in(open_page, "admin")
    at(session, "#/estate")
    page = session.page
    assert page.locator("[data-testid=as-of]").inner_text().startswith("As of ")
    assert page.locator("tr[data-function]").count() == 5
    assert row(session, ERRORING).locator("[data-code='lambda.erroring']").is_visible()
    assert row(session, IDLE).locator("[data-code='lambda.idle']").is_visible()
    assert row(session, IDLE).locator("[data-code='lambda.runtime-deprecated']").is_visible()
    # Unowned: the tag and what an admin may do about it; owned: the owner's name.
    unowned = row(session, ERRORING)
    assert unowned.locator(".tag-unowned").inner_text() == "unowned"
    assert unowned.get_by_role("button", name="Claim").is_visible()
    assert unowned.get_by_role("button", name="Assign").is_visible()
    assert row(session, OWNED_BY_ALICE).locator("td[data-label=Owner]").inner_text() == "alice"
    reserved = row(session, OWNED_BY_ALICE).locator("td[data-label=Reserved]").inner_text()
    assert reserved == "20"
    cost = row(session, "bob-image-resize").locator("td[data-label='Last 30 days']").inner_text()
    assert cost.startswith("$") and "%" in cost
    # Nothing scrolls sideways on a laptop.
    overflow = page.evaluate(
        "() => { const w = document.querySelector('.table-wrap'); "
        "return w.scrollWidth - w.clientWidth }"
    )
    assert overflow <= 0


def test_function_detail_draws_metrics_and_cost_on_the_chosen_range(
    open_page: Any, api: Any
) -> None:
    session = signed_in(open_page, "admin")
    at(session, "#/estate")
    session.page.get_by_role("link", name="bob-image-resize").click()
    session.page.locator(".view[data-view='estate/lambda/bob-image-resize']").wait_for()
    canvas = session.page.locator("canvas[data-chart='usage-cost'][data-drawn='true']")
    canvas.wait_for()
    session.wait_idle()
    # Three datasets on one 30-day axis: the cost, invocations and errors per day.
    assert canvas.get_attribute("aria-label") == (
        "Cost per day, invocations and errors over the 30 days to 2026-11-24"
    )
    assert "from CloudWatch" in session.page.locator("[data-testid=metrics-note]").inner_text()
    figures = session.page.locator("[data-testid=metric-figures]").inner_text()
    assert "Duration p50 · p95 · p99" in figures
    session.page.get_by_label("7 days").check()
    session.page.wait_for_function(
        "() => document.querySelector(\"canvas[data-chart='usage-cost']\")"
        ".getAttribute('aria-label')"
        ".endsWith('invocations and errors over the 7 days to 2026-11-24')"
    )
    assert session.page.evaluate("location.hash").endswith("?days=7")
    assert "Per 1M invocations" in session.page.locator(".estate-figures").first.inner_text()


def test_unknown_function_says_so(open_page: Any) -> None:
    session = signed_in(open_page, "admin")
    session.console.expect("404")
    at(session, "#/estate/lambda/no-such-function")
    assert "not in the estate you can see" in session.page.locator(".view").inner_text()


def test_network_flags_the_open_group_and_the_unattached_address(open_page: Any) -> None:
    session = signed_in(open_page, "admin")
    at(session, "#/estate/network")
    page = session.page
    assert page.locator("[data-testid=flags] [data-code='network.open-to-world']").is_visible()
    risky = page.locator("[data-testid=security-groups] li.risky")
    assert risky.count() == 1 and "22 from 0.0.0.0/0" in risky.inner_text()
    # The demo's forgotten Elastic IP: a saving, and its address marked.
    saving = page.locator("[data-testid=network-savings] [data-code='network.unattached-eip']")
    assert saving.count() == 1 and "release it" in saving.inner_text()
    unattached = page.locator("[data-testid=addresses] tr.row-flagged")
    assert unattached.count() == 1 and "unattached" in unattached.inner_text()
    assert page.locator("[data-testid=network-cost] tbody tr").count() == 5
    nat_hours = page.locator("[data-testid=network-cost] tbody tr").first.inner_text()
    assert "NAT gateway hours" in nat_hours and "$" in nat_hours


def test_topology_is_readable_and_keyboard_reachable(open_page: Any) -> None:
    session = signed_in(open_page, "admin")
    at(session, "#/estate/network")
    page = session.page
    page.locator("svg.topology").first.wait_for()
    kinds = set(page.locator(".topology-node").evaluate_all("els => els.map(e => e.dataset.kind)"))
    assert {"vpc", "subnet", "igw", "nat", "endpoint"} <= kinds
    # Readable: every label inside its box, and no two boxes of a diagram overlapping.
    problems = page.evaluate(
        """() => [...document.querySelectorAll('svg.topology')].flatMap(svg => {
            const boxes = [...svg.querySelectorAll('.topology-node')].map(g => {
                const r = g.querySelector('rect').getBBox();
                const texts = [...g.querySelectorAll('text')];
                const spill = texts.some(t => t.getBBox().x + t.getBBox().width > r.x + r.width);
                return { id: g.dataset.node, r, spill };
            });
            const out = boxes.filter(b => b.spill).map(b => 'spills: ' + b.id);
            for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
                const a = boxes[i].r, b = boxes[j].r;
                if (a.x < b.x + b.width && b.x < a.x + a.width
                    && a.y < b.y + b.height && b.y < a.y + a.height)
                    out.push('overlap: ' + boxes[i].id + ' ' + boxes[j].id);
            }
            return out;
        })"""
    )
    assert problems == []
    # Keyboard: Tab from the page's heading reaches a node; Enter opens its details.
    page.locator("h1").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.dataset?.node"):
            break
    focused = page.evaluate(
        "({label: document.activeElement.getAttribute('aria-label'), "
        "role: document.activeElement.getAttribute('role')})"
    )
    assert focused["role"] == "button" and focused["label"].startswith("VPC: ")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert "CIDR" in dialog.inner_text()
    page.keyboard.press("Escape")
    assert page.evaluate("!!document.activeElement.dataset?.node")


def test_phone_width_lists_the_network_without_loading_the_layout(open_page: Any) -> None:
    session: Session = open_page(viewport=PHONE)
    chunks: list[str] = []
    session.page.on(
        "request", lambda r: chunks.append(r.url) if "/assets/topology-" in r.url else None
    )
    session.sign_in("admin")
    at(session, "#/estate/network")
    page = session.page
    listing = page.locator("[data-testid=topology-list]")
    listing.wait_for()
    assert page.locator("svg.topology").count() == 0
    assert chunks == []
    assert "Public 10.20.0.0/24" in listing.inner_text()
    listing.get_by_role("button", name="NAT gateway", exact=True).click()
    assert "NAT gateway" in page.get_by_role("dialog").inner_text()
    page.keyboard.press("Escape")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


def test_iam_users_show_the_three_findings(open_page: Any) -> None:
    session = signed_in(open_page, "admin")
    at(session, "#/estate/iam")
    page = session.page
    cards = page.locator("[data-testid=iam-users] .iam-user")
    assert cards.count() == 3
    codes = page.locator("[data-testid=iam-users] [data-code]").evaluate_all(
        "els => els.map(e => e.closest('[data-user]').dataset.user + ' ' + e.dataset.code)"
    )
    assert "demo-console-no-mfa iam.console-without-mfa" in codes
    assert "demo-ci-old-key iam.access-key-not-rotated" in codes
    assert "demo-contractor-unused iam.password-unused" in codes
    old = page.locator("[data-user='demo-ci-old-key']")
    assert "200 days old" in old.inner_text()
    assert "Tally user: alice" in old.inner_text()
    assert "Secret" not in page.locator(".view").inner_text()


def test_dark_mode_renders_the_estate(open_page: Any) -> None:
    session = signed_in(open_page, "admin")
    session.page.emulate_media(color_scheme="dark")
    at(session, "#/estate/network")
    session.page.locator("svg.topology").first.wait_for()
    colours = session.page.evaluate(
        """() => ({
            card: getComputedStyle(document.querySelector('.card')).backgroundColor,
            node: getComputedStyle(document.querySelector('.topology-node rect')).fill,
            label: getComputedStyle(document.querySelector('.topology-label')).fill,
        })"""
    )
    assert colours["card"] == "rgb(23, 30, 41)"
    assert colours["node"] != "rgb(255, 255, 255)"
    assert colours["label"] == "rgb(230, 235, 242)"


def test_a_member_sees_their_own_functions_and_not_the_network(open_page: Any, api: Any) -> None:
    session = signed_in(open_page, "alice")
    at(session, "#/estate")
    page = session.page
    names = page.locator("tr[data-function]").evaluate_all(
        "els => els.map(e => e.dataset.function)"
    )
    assert names == [OWNED_BY_ALICE]
    assert page.locator(".estate-tabs a").all_inner_texts() == ["Lambda functions"]
    at(session, "#/estate/network")
    assert page.locator("[data-testid=not-allowed]").is_visible()
    # The Manage card follows the member's estate:lambda:manage (held by members once the
    # management actions are deployed), as GET /api/me tells it.
    granted = {g["permission"] for g in api.get("alice", "/me")["permissions"]["granted"]}
    at(session, f"#/estate/lambda/{OWNED_BY_ALICE}")
    manage = page.locator("[data-testid=function-actions]").count()
    assert manage == (1 if "estate:lambda:manage" in granted else 0)


def test_an_auditor_reads_iam_users_without_the_iam_actions(open_page: Any) -> None:
    session = signed_in(open_page, "audrey")
    at(session, "#/estate/iam")
    assert session.page.locator("[data-testid=iam-users] .iam-user").count() == 3
    assert session.page.locator("[data-testid=iam-actions]").count() == 0


# --- actions (POST /api/estate/actions): preview, then confirm -----------------------------


def _grant(session: Session, *permissions: str) -> None:
    """/me as the API answers it, with these permissions at the organisation (the actions'
    permissions come with the management branch; the API decides each call anyway)."""

    def me(route: Any) -> None:
        status, content_type, body = real_answer(route)
        body["permissions"]["granted"] += [{"permission": p, "scope": "org"} for p in permissions]
        fulfil(route, status, content_type, body)

    session.page.route("**/api/me", me)


def test_pause_is_previewed_then_performed_on_confirmation(open_page: Any) -> None:
    session: Session = open_page()
    _grant(session, "estate:lambda:manage")
    sent: list[dict[str, Any]] = []

    def action(route: Any) -> None:
        body = json.loads(route.request.post_data)
        sent.append(body)
        change = {"field": "reservedConcurrency", "before": None, "after": 0}
        route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps(
                {
                    "action": body["action"],
                    "target": body["target"],
                    "arn": None,
                    "region": "us-east-1",
                    "preview": body["preview"],
                    "owners": [],
                    "changes": [change],
                    "removes": [],
                    "notified": [],
                }
            ),
        )

    session.page.route("**/api/estate/actions", action)
    session.sign_in("admin")
    at(session, f"#/estate/lambda/{ERRORING}")
    page = session.page
    page.get_by_role("button", name="Pause").click()
    dialog = page.locator("[data-testid=action-dialog]")
    dialog.wait_for()
    assert "Reserved concurrency: unreserved → 0 (paused)" in dialog.inner_text()
    assert sent == [
        {
            "action": "lambda:PutFunctionConcurrency",
            "target": ERRORING,
            "parameters": {"reservedConcurrency": 0},
            "preview": True,
        }
    ]
    dialog.get_by_role("button", name="Pause").click()
    page.locator("[data-testid=estate-notice]", has_text="is paused").wait_for()
    assert [s["preview"] for s in sent] == [True, False]


def test_memory_is_previewed_with_the_right_sizing_suggestion(open_page: Any) -> None:
    session: Session = open_page()
    _grant(session, "estate:lambda:manage")
    session.console.expect("409")

    def action(route: Any) -> None:
        body = json.loads(route.request.post_data)
        if body["parameters"] == {"memory": 128, "timeout": 3}:
            # The function's own values: nothing to do (the API's 409 conflict).
            route.fulfill(
                status=409,
                content_type="application/problem+json",
                body=json.dumps(
                    {
                        "type": "https://tally.dev/problems/conflict",
                        "title": "Conflict",
                        "status": 409,
                        "detail": "nothing would change.",
                    }
                ),
            )
            return
        usd = {"currency": "USD"}
        route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps(
                {
                    "action": body["action"],
                    "target": body["target"],
                    "arn": None,
                    "region": "us-east-1",
                    "preview": True,
                    "owners": [],
                    "changes": [{"field": "memory", "before": 128, "after": 512}],
                    "removes": [],
                    "sizing": {
                        "memory": 256,
                        "timeout": 3,
                        "reasons": ["p99 duration is 40% of the timeout"],
                        "monthlyCostNow": {**usd, "amount": "1.20"},
                        "monthlyCostSuggested": {**usd, "amount": "1.10"},
                        "monthlyCostRequested": {**usd, "amount": "2.40"},
                        "assumption": "at the last 7 days' rate of use",
                    },
                    "notified": [],
                }
            ),
        )

    session.page.route("**/api/estate/actions", action)
    session.sign_in("admin")
    at(session, f"#/estate/lambda/{ERRORING}")
    page = session.page
    page.get_by_role("button", name="Memory and timeout…").click()
    dialog = page.locator("[data-testid=action-dialog]")
    dialog.get_by_text("Change a value to see what would change.").wait_for()
    assert dialog.locator("[data-testid=action-error]").inner_text() == ""
    dialog.get_by_label("Memory (MB)").fill("512")
    dialog.get_by_label("Memory (MB)").press("Tab")
    sizing = dialog.locator("[data-testid=preview-sizing]")
    sizing.wait_for()
    assert "Suggested: 256 MB, 3 s timeout." in sizing.inner_text()
    assert "now $1.20, suggested $1.10, as requested $2.40" in sizing.inner_text()
    assert dialog.get_by_role("button", name="Apply").is_enabled()
    dialog.get_by_role("button", name="Cancel").click()


def test_an_action_refused_shows_the_problem_and_changes_nothing(open_page: Any) -> None:
    session: Session = open_page()
    _grant(session, "estate:lambda:manage", "estate:iam:DeleteUser")
    session.console.expect("403")
    sent: list[dict[str, Any]] = []

    def refuse(route: Any) -> None:
        sent.append(json.loads(route.request.post_data))
        route.fulfill(
            status=403,
            content_type="application/problem+json",
            body=json.dumps(
                {
                    "type": "https://tally.dev/problems/forbidden",
                    "title": "Forbidden",
                    "status": 403,
                    "detail": "you may not delete IAM users",
                }
            ),
        )

    session.page.route("**/api/estate/actions", refuse)
    session.sign_in("admin")
    at(session, "#/estate/iam")
    page = session.page
    card = page.locator("[data-user='demo-ci-old-key']")
    assert "Delete user" in card.locator("[data-testid=iam-actions] button").all_inner_texts()
    card.get_by_role("button", name="Delete user").click()
    error = page.locator("[data-testid=action-error]")
    error.wait_for()
    page.wait_for_function("() => document.querySelector('[data-testid=action-error]').textContent")
    assert error.inner_text() == "you may not delete IAM users"
    assert page.get_by_role("button", name="Delete user", exact=True).last.is_disabled()
    assert [s["preview"] for s in sent] == [True]


def test_a_new_iam_user_is_previewed_from_the_typed_name(open_page: Any) -> None:
    session: Session = open_page()
    _grant(session, "estate:iam:CreateUser")
    sent: list[dict[str, Any]] = []

    def action(route: Any) -> None:
        body = json.loads(route.request.post_data)
        sent.append(body)
        route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps(
                {
                    "action": body["action"],
                    "target": body["target"],
                    "arn": None,
                    "region": "global",
                    "preview": body["preview"],
                    "owners": [],
                    "changes": [{"field": "user", "before": None, "after": body["target"]}],
                    "removes": [],
                    "notified": [],
                }
            ),
        )

    session.page.route("**/api/estate/actions", action)
    session.sign_in("admin")
    at(session, "#/estate/iam")
    page = session.page
    page.get_by_role("button", name="New IAM user…").click()
    dialog = page.locator("[data-testid=action-dialog]")
    dialog.wait_for()
    # Nothing is asked before there is a name.
    assert "Fill in the name" in dialog.inner_text() and sent == []
    dialog.get_by_label("User name").fill("new-developer")
    dialog.get_by_label("Groups (comma-separated, optional)").fill("tally-demo-developers, ops")
    dialog.get_by_label("Groups (comma-separated, optional)").press("Tab")
    dialog.locator("[data-testid=preview-changes]").wait_for()
    assert sent[-1] == {
        "action": "iam:CreateUser",
        "target": "new-developer",
        "parameters": {"groups": ["tally-demo-developers", "ops"]},
        "preview": True,
    }
    dialog.get_by_role("button", name="Create user").click()
    page.locator("[data-testid=estate-notice]", has_text="new-developer created").wait_for()
    assert sent[-1]["preview"] is False


def test_add_to_group_offers_the_cached_groups_the_user_is_not_in(open_page: Any) -> None:
    session: Session = open_page()
    _grant(session, "estate:iam:AddUserToGroup")
    sent: list[dict[str, Any]] = []

    def action(route: Any) -> None:
        body = json.loads(route.request.post_data)
        sent.append(body)
        route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps(
                {
                    "action": body["action"],
                    "target": body["target"],
                    "arn": None,
                    "region": "global",
                    "preview": body["preview"],
                    "owners": [],
                    "changes": [
                        {"field": "groups", "before": [], "after": [body["parameters"]["group"]]}
                    ],
                    "removes": [],
                    "notified": [],
                }
            ),
        )

    session.page.route("**/api/estate/actions", action)
    session.sign_in("admin")
    at(session, "#/estate/iam")
    page = session.page
    page.locator("[data-user='demo-ci-old-key']").get_by_role(
        "button", name="Add to group…"
    ).click()
    dialog = page.locator("[data-testid=action-dialog]")
    dialog.locator("[data-testid=preview-changes]").wait_for()
    # A choice, not free text: the demo's groups but the one the user is already in
    group = dialog.get_by_label("Group")
    assert group.evaluate("e => e.tagName") == "SELECT"
    options = group.locator("option").evaluate_all("els => els.map(e => e.value)")
    assert options == ["tally-demo-auditors"]
    assert "tally-demo-read-buckets" in group.locator("option").first.inner_text()
    assert sent[-1]["parameters"] == {"group": "tally-demo-auditors"}
    dialog.get_by_role("button", name="Cancel").click()


# --- changes to the demo data (last) -----------------------------------------------------


def test_an_admin_links_an_iam_user_then_unlinks_it(open_page: Any) -> None:
    session = signed_in(open_page, "admin")
    at(session, "#/estate/iam")
    page = session.page
    card = page.locator("[data-user='demo-ci-old-key']")
    linked = card.locator("[data-testid=iam-linked]")
    # Given the Owner tag's link (to alice)
    assert linked.inner_text() == "Tally user: alice (by Owner tag)"
    assert card.locator("[data-testid=iam-unlink]").count() == 0
    # When the admin links it to bob
    card.get_by_role("button", name="Link to a Tally user…").click()
    dialog = page.locator("[data-testid=link-dialog]")
    dialog.get_by_label("Tally user").select_option(label="bob")
    dialog.get_by_role("button", name="Link").click()
    # Then the card says so, and how
    page.wait_for_function(
        "() => document.querySelector(\"[data-user='demo-ci-old-key'] [data-testid=iam-linked]\")"
        "?.textContent === 'Tally user: bob (linked by an admin)'"
    )
    assert "linked to bob" in page.locator("[data-testid=estate-notice]").inner_text()
    # And unlinking shows the tag's link again
    card.locator("[data-testid=iam-unlink]").click()
    page.wait_for_function(
        "() => document.querySelector(\"[data-user='demo-ci-old-key'] [data-testid=iam-linked]\")"
        "?.textContent === 'Tally user: alice (by Owner tag)'"
    )
    assert card.locator("[data-testid=iam-unlink]").count() == 0


def test_an_auditor_may_not_link_iam_users(open_page: Any) -> None:
    session = signed_in(open_page, "audrey")
    at(session, "#/estate/iam")
    assert session.page.locator("[data-testid=iam-users] .iam-user").count() == 3
    assert session.page.locator("[data-testid=iam-link-actions]").count() == 0


def test_an_admin_claims_an_unowned_function(open_page: Any) -> None:
    session = signed_in(open_page, "admin")
    at(session, "#/estate")
    page = session.page
    row(session, "nightly-cleanup").get_by_role("button", name="Claim").click()
    page.get_by_role("dialog").get_by_role("button", name="Claim").click()
    notice = page.locator("[data-testid=estate-notice]")
    notice.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=estate-notice]').textContent"
    )
    assert notice.inner_text() in (
        "nightly-cleanup is yours from today.",
        "Claim requested, waiting for approval.",
    )
    if notice.inner_text().endswith("from today."):
        # The owners record follows the claim at once: the list says so after it reloads.
        owner = row(session, "nightly-cleanup").locator("td[data-label=Owner]")
        page.wait_for_function(
            "() => document.querySelector(\"tr[data-function='nightly-cleanup'] "
            "td[data-label=Owner]\").textContent === 'you'"
        )
        assert owner.inner_text() == "you"
