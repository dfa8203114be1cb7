"""Issue 11's dashboard, in Chromium against the local stack: the bell (the unread count, the
keyboard, marks), the notifications page (newest first, "Load more") and the settings page
(email alerts, digest, the webhook's field errors, a change made elsewhere).

Each test signs in people of its own, made in the stack's Cognito, with notifications put
straight into the stack's table through the notification store: nothing the alerts function
produces for the demo users can change the counts these tests expect. The browser's clock is
fixed to a day after the stack's pinned business date, so "3 hours ago" is read against the
business date (clock.js), never the machine's clock.
"""

from __future__ import annotations

import itertools
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.local.aws import USER_GROUP, aws_client
from infra.local.client import sign_in
from tally.models import EmailSuppression, Notification, Preferences, StoredWebhook
from tally.settings import Settings
from tally.store import notifications, preferences
from tests.browser.conftest import MID_MONTH, PHONE, Api, Session

# The browser's clock: the real date moves on, the stack's business date stays MID_MONTH.
BROWSER_NOW = "2026-12-01T15:00:00Z"
BUSINESS_NOON = datetime(MID_MONTH.year, MID_MONTH.month, MID_MONTH.day, 12, tzinfo=UTC)
PASSWORD = "Notify-Tally-Local-1"
_names = itertools.count(1)


@dataclass(frozen=True)
class Person:
    username: str
    user_id: str
    token: str


def new_person(local_json: dict[str, Any], stem: str) -> Person:
    """A user of the stack's pool with a permanent password, signed in once for the API."""
    username = f"{stem}{next(_names)}"
    cognito = aws_client("cognito-idp", local_json["aws_endpoint_url"], local_json["region"])
    pool = local_json["user_pool_id"]
    created = cognito.admin_create_user(
        UserPoolId=pool,
        Username=username,
        UserAttributes=[
            {"Name": "email", "Value": f"{username}@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=username, Password=PASSWORD, Permanent=True
    )
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=USER_GROUP)
    sub = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
    return Person(username, sub, sign_in(local_json, username, PASSWORD))


def settings_of(local_json: dict[str, Any]) -> Settings:
    """The stack's tables, on its moto server."""
    return Settings(
        region=local_json["region"],
        table_names=dict(local_json["tables"]),
        page_token_keys=None,
        aws_endpoint_url=local_json["aws_endpoint_url"],
    )


def store_of(local_json: dict[str, Any]) -> notifications.NotificationStore:
    return notifications.dynamodb_store(settings_of(local_json))


def stop_email(local_json: dict[str, Any], person: Person) -> None:
    """As SES's bounce feedback does (tally.email_feedback)."""
    preferences.dynamodb_store(settings_of(local_json)).set_suppression(
        person.user_id,
        EmailSuppression(f"{person.username}@example.com", "bounce", BUSINESS_NOON),
        at=BUSINESS_NOON,
    )


def with_webhook(local_json: dict[str, Any], person: Person) -> None:
    """A webhook as the API stores it (sealed; this one is never opened, only its hint shown)."""
    store = preferences.dynamodb_store(settings_of(local_json))
    current = store.get(person.user_id) or Preferences(person.user_id)
    hook = StoredWebhook("sealed", "https://hooks.slack.com/…/x9Qa", "slack")
    store.put(replace(current, webhook=hook))


def give(
    local_json: dict[str, Any], person: Person, count: int, *, unread: int, label: str = "Alert"
) -> list[str]:
    """``count`` notifications an hour apart before noon of the business day, the newest
    ``unread`` of them unread; their titles, newest first."""
    store = store_of(local_json)
    titles = []
    for i in range(count):
        created = BUSINESS_NOON - timedelta(hours=i)
        title = f"{label} {i + 1} for {person.username}"
        store.add(
            Notification(
                notification_id=f"test-{i}",
                user_id=person.user_id,
                kind="threshold",
                title=title,
                body=f"You have used {80 + i}% of your November budget.",
                link="#/budget",
                created_at=created,
                read_at=None if i < unread else created + timedelta(minutes=5),
            )
        )
        titles.append(title)
    return titles


def call(
    local_json: dict[str, Any], person: Person, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    """The API as ``person`` (the Api fixture signs in only the demo users)."""
    request = urllib.request.Request(
        local_json["api_url"] + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": person.token, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def signed_in(open_page: Any, person: Person, **kw: Any) -> Session:
    session: Session = open_page(**kw)
    # A fixed browser clock a few days past the business date: relative times must not move.
    session.page.clock.set_fixed_time(BROWSER_NOW)
    session.sign_in(person.username, PASSWORD)
    return session


def bell(session: Session) -> Any:
    return session.page.locator("[data-testid=bell]")


def wait_for_count(session: Session, unread: int) -> None:
    """Until the bell says ``unread`` (its accessible name and the badge)."""
    label = f"Notifications, {unread if unread else 'none'} unread"
    session.page.locator(f"[data-testid=bell][aria-label='{label}']").wait_for()
    badge = session.page.locator("[data-testid=bell-count]")
    if unread:
        assert badge.inner_text() == str(unread)
    else:
        assert badge.is_hidden()


def titles_in(locator: Any) -> list[str]:
    """The titles as shown, without the "Unread:" said to screen readers."""
    return [re.sub(r"^Unread:\s*", "", t).strip() for t in locator.all_inner_texts()]


def panel_titles(session: Session) -> list[str]:
    return titles_in(session.page.locator("[data-testid=bell-panel] .inbox-title"))


# --- the bell ----------------------------------------------------------------------------


def test_the_bell_shows_each_person_only_their_own(open_page: Any, stack: dict[str, Any]) -> None:
    nina, otto = new_person(stack, "nina"), new_person(stack, "otto")
    ninas = give(stack, nina, 5, unread=3)
    ottos = give(stack, otto, 2, unread=1, label="Notice")

    session = signed_in(open_page, nina)
    wait_for_count(session, 3)
    bell(session).click()
    session.page.locator("[data-testid=bell-panel] .inbox-item").first.wait_for()
    assert panel_titles(session) == ninas  # newest first, all five (the panel shows six)
    assert not set(ottos) & set(panel_titles(session))
    unread = session.page.locator("[data-testid=bell-panel] .inbox-item.unread .inbox-title")
    assert titles_in(unread) == ninas[:3]
    # Read against the business day, not the browser's: made at noon, it is now 15:00.
    assert session.page.locator(".inbox-time").first.inner_text() == "3 hours ago"

    # The API agrees, and gives nobody else's.
    status, page = call(stack, otto, "GET", "/notifications")
    assert status == 200
    assert page["unreadCount"] == 1
    assert [n["title"] for n in page["items"]] == ottos


def test_the_bell_opens_and_closes_from_the_keyboard(open_page: Any, stack: dict[str, Any]) -> None:
    person = new_person(stack, "kira")
    titles = give(stack, person, 3, unread=2)
    session = signed_in(open_page, person)
    page = session.page
    wait_for_count(session, 2)
    panel = page.locator("[data-testid=bell-panel]")

    bell(session).focus()
    page.keyboard.press("Enter")
    panel.locator(".inbox-item").first.wait_for()
    assert bell(session).get_attribute("aria-expanded") == "true"
    assert bell(session).get_attribute("aria-controls") == panel.get_attribute("id")

    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent").find(titles[0]) >= 0
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent").find(titles[1]) >= 0
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # wraps to the last
    assert page.evaluate("document.activeElement.textContent").find(titles[2]) >= 0
    # Its read/unread toggle comes just before it (Shift+Tab), as the dot it shows.
    page.keyboard.press("Shift+Tab")
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert label == f"Mark unread: {titles[2]}"  # the third is read

    page.keyboard.press("Escape")
    assert panel.is_hidden()
    assert bell(session).get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.dataset.testid") == "bell"

    # Space opens it too; a click elsewhere closes it.
    page.keyboard.press(" ")
    panel.locator(".inbox-item").first.wait_for()
    page.locator("main h1").click()
    assert panel.is_hidden()


def test_marks_change_the_count(open_page: Any, stack: dict[str, Any]) -> None:
    person = new_person(stack, "mara")
    titles = give(stack, person, 4, unread=3)
    session = signed_in(open_page, person)
    page = session.page
    wait_for_count(session, 3)
    bell(session).click()
    panel = page.locator("[data-testid=bell-panel]")
    panel.locator(".inbox-item").first.wait_for()

    panel.get_by_role("button", name=f"Mark read: {titles[1]}").click()
    wait_for_count(session, 2)
    assert call(stack, person, "GET", "/notifications")[1]["unreadCount"] == 2
    # The toggle keeps the keyboard where it was, now saying the other thing.
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        f"Mark unread: {titles[1]}"
    )
    page.keyboard.press("Enter")
    wait_for_count(session, 3)

    # An item opens its page and is read.
    panel.get_by_role("link", name=re.compile(re.escape(titles[0]))).click()
    page.wait_for_function("() => location.hash === '#/budget'")
    wait_for_count(session, 2)
    assert panel.is_hidden()
    status, listed = call(stack, person, "GET", "/notifications")
    assert status == 200
    assert [n["read"] for n in listed["items"]] == [True, False, False, True]

    bell(session).click()
    panel.locator(".inbox-item").first.wait_for()
    panel.get_by_role("button", name="Mark all read").click()
    wait_for_count(session, 0)
    assert panel.locator(".inbox-item.unread").count() == 0
    assert call(stack, person, "GET", "/notifications")[1]["unreadCount"] == 0


def test_the_bell_stays_open_while_the_next_page_waits(
    open_page: Any, stack: dict[str, Any]
) -> None:
    """A page other than the dashboard waits for the organisation's billing periods (and, once
    screens load their code when first opened, for that code) before it draws. Someone who opens
    the bell meanwhile keeps it open and keeps the focus in it: the page that then draws does
    not take the focus, which would close the panel under them."""
    person = new_person(stack, "wren")
    give(stack, person, 2, unread=2)
    session: Session = open_page()
    page = session.page
    # Held from the start: the dashboard asks for them too, after its first chart.
    held: list[Any] = []
    page.route("**/api/settings/billing", lambda route: held.append(route))
    page.clock.set_fixed_time(BROWSER_NOW)
    session.sign_in(person.username, PASSWORD)
    wait_for_count(session, 2)
    page.evaluate("location.hash = '#/budget'")
    for _ in range(300):  # route handlers run while Playwright waits: until the ask is held
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the budget page asks for the billing periods before it draws"
    bell(session).click()
    panel = page.locator("[data-testid=bell-panel]")
    panel.locator(".inbox-item").first.wait_for()
    for route in held:
        route.continue_()
    page.unroute("**/api/settings/billing")
    page.locator(".view[data-view=budget]").wait_for()
    session.wait_idle()
    assert panel.is_visible()
    assert bell(session).get_attribute("aria-expanded") == "true"


def test_an_alerts_id_is_marked_from_the_bell(open_page: Any, stack: dict[str, Any]) -> None:
    """An id as the alerts function makes it ("<period>_<level>_<limit>_<threshold>", with the
    dots and dashes of its parts) is marked through the path as it is."""
    person = new_person(stack, "hugo")
    store_of(stack).add(
        Notification(
            notification_id="2026-11_threshold_1000.5_80",
            user_id=person.user_id,
            kind="threshold",
            title="You have used 85% of your November budget",
            body="$850.12 of $1,000.00, with 5 days left.",
            link="#/budget",
            created_at=BUSINESS_NOON,
        )
    )
    session = signed_in(open_page, person)
    wait_for_count(session, 1)
    bell(session).click()
    panel = session.page.locator("[data-testid=bell-panel]")
    panel.get_by_role("button", name=re.compile("^Mark read: ")).click()
    wait_for_count(session, 0)
    status, listed = call(stack, person, "GET", "/notifications")
    assert (status, listed["items"][0]["id"], listed["items"][0]["read"]) == (
        200,
        "2026-11_threshold_1000.5_80",
        True,
    )


def test_the_count_follows_new_notifications_on_navigation(
    open_page: Any, stack: dict[str, Any]
) -> None:
    person = new_person(stack, "lena")
    session = signed_in(open_page, person)
    wait_for_count(session, 0)
    give(stack, person, 2, unread=2)
    session.go("#/settings")
    wait_for_count(session, 2)


# --- the notifications page ----------------------------------------------------------------


def test_the_page_lists_newest_first_and_loads_more(open_page: Any, stack: dict[str, Any]) -> None:
    person = new_person(stack, "paul")
    titles = give(stack, person, 25, unread=4)
    session = signed_in(open_page, person)
    page = session.page
    bell(session).click()
    page.get_by_role("link", name="See all notifications").click()
    page.locator(".view[data-view='notifications']").wait_for()
    listed = page.locator(".inbox-page .inbox-title")
    listed.nth(19).wait_for()
    assert listed.count() == 20
    status = page.locator("[data-testid=notifications-status]")
    assert status.inner_text() == "20 notifications so far."
    assert page.locator("[data-testid=unread-summary]").inner_text() == "4 unread"

    page.get_by_role("button", name="Load more").click()
    listed.nth(24).wait_for()
    assert titles_in(listed) == titles
    assert status.inner_text() == "25 notifications."
    assert page.get_by_role("button", name="Load more").is_hidden()
    # The keyboard goes on where the new ones start.
    assert titles[20] in page.evaluate("document.activeElement.textContent")

    # A mark on the page is a mark for the bell too.
    page.get_by_role("button", name=f"Mark unread: {titles[24]}").click()
    wait_for_count(session, 5)
    assert page.locator("[data-testid=unread-summary]").inner_text() == "5 unread"
    page.get_by_test_id("mark-all-read").click()
    wait_for_count(session, 0)
    assert page.locator("[data-testid=unread-summary]").inner_text() == "All read"
    assert page.locator(".inbox-page .inbox-item.unread").count() == 0


def test_the_page_says_when_there_are_none(open_page: Any, stack: dict[str, Any]) -> None:
    person = new_person(stack, "ivan")
    session = signed_in(open_page, person)
    session.go("#/notifications")
    session.page.get_by_text("No notifications yet.").wait_for()
    assert session.page.locator(".inbox-item").count() == 0


# --- settings --------------------------------------------------------------------------------


def settings_page(session: Session) -> Any:
    page = session.page
    page.get_by_role("link", name="Settings").click()
    page.locator("[data-testid=settings-form]").wait_for()
    return page


def test_settings_save_the_digest_and_email_alerts(open_page: Any, stack: dict[str, Any]) -> None:
    person = new_person(stack, "sara")
    session = signed_in(open_page, person)
    page = settings_page(session)
    form = page.locator("[data-testid=settings-form]")
    # No budget: no threshold to choose, and the page says why.
    assert form.get_by_label("Alert threshold").is_disabled()
    assert "no budget yet" in form.locator("[data-field=alertThreshold] .field-hint").inner_text()
    assert form.get_by_label("Email me budget alerts").is_checked()
    assert form.get_by_label(re.compile("^Off")).is_checked()

    form.get_by_label("Email me budget alerts").uncheck()
    form.get_by_label(re.compile("^Weekly")).check()
    form.get_by_role("button", name="Save settings").click()
    page.locator("[data-testid=settings-saved]", has_text="Settings saved.").wait_for()
    status, saved = call(stack, person, "GET", "/preferences")
    assert status == 200
    assert (saved["emailAlerts"], saved["digest"]) == (False, "weekly")

    page.reload()
    page.locator("[data-testid=settings-form]").wait_for()
    assert not form.get_by_label("Email me budget alerts").is_checked()
    assert form.get_by_label(re.compile("^Weekly")).is_checked()


def test_settings_refuse_to_overwrite_a_newer_change(open_page: Any, stack: dict[str, Any]) -> None:
    person = new_person(stack, "tess")
    session = signed_in(open_page, person)
    session.console.expect(r"status of 409")
    page = settings_page(session)
    form = page.locator("[data-testid=settings-form]")
    # Changed elsewhere (another tab, the unsubscribe link) after the page read them.
    assert call(stack, person, "PUT", "/preferences", {"digest": "daily"})[0] == 200
    form.get_by_label("Email me budget alerts").uncheck()
    form.get_by_role("button", name="Save settings").click()
    error = page.locator("[data-testid=settings-error]")
    error.filter(has_text="changed elsewhere").wait_for()
    # The form now shows the newer change, and nothing was overwritten.
    assert form.get_by_label(re.compile("^Daily")).is_checked()
    assert call(stack, person, "GET", "/preferences")[1]["emailAlerts"] is True


def test_a_budget_holder_sets_the_threshold_here(open_page: Any, stack: dict[str, Any]) -> None:
    session: Session = open_page()
    session.sign_in("carol")  # a demo user with a budget (threshold 80%)
    page = settings_page(session)
    slider = page.get_by_label("Alert threshold")
    assert slider.is_enabled()
    assert slider.input_value() == str(Api(stack).get("carol", "/preferences")["alertThreshold"])


def test_an_http_webhook_is_refused_next_to_its_field(
    open_page: Any, stack: dict[str, Any]
) -> None:
    person = new_person(stack, "walt")
    session = signed_in(open_page, person)
    session.console.expect(r"status of 422")
    page = settings_page(session)
    webhook = page.locator("[data-testid=webhook-form]")
    webhook.get_by_label("Webhook URL").fill("http://hooks.slack.com/services/T000/B000/XXXX")
    webhook.get_by_role("button", name="Save webhook").click()
    error = webhook.locator(".field-error[data-field=webhookUrl]")
    error.wait_for()
    assert "https" in error.inner_text().lower()
    assert webhook.get_by_label("Webhook URL").get_attribute("aria-invalid") == "true"
    assert call(stack, person, "GET", "/preferences")[1]["webhook"] is None


def test_email_stopped_by_a_bounce_is_said_and_can_resume(
    open_page: Any, stack: dict[str, Any]
) -> None:
    person = new_person(stack, "bea")
    stop_email(stack, person)
    session = signed_in(open_page, person)
    page = settings_page(session)
    notice = page.locator("[data-testid=email-suppressed]")
    assert f"Email to {person.username}@example.com stopped on" in notice.inner_text()
    assert "bounced" in notice.inner_text()
    notice.get_by_role("button", name="My mailbox is fixed: email me again").click()
    page.locator("[data-testid=settings-saved]", has_text="Email is on again.").wait_for()
    assert notice.count() == 0
    assert call(stack, person, "GET", "/preferences")[1]["emailSuppressed"] is None


def test_a_webhook_shows_only_its_hint(open_page: Any, stack: dict[str, Any]) -> None:
    person = new_person(stack, "gus")
    with_webhook(stack, person)
    session = signed_in(open_page, person)
    page = settings_page(session)
    webhook = page.locator("[data-testid=webhook]")
    assert webhook.get_by_test_id("webhook-hint").inner_text() == "https://hooks.slack.com/…/x9Qa"
    assert "Slack" in webhook.inner_text()
    assert webhook.get_by_role("button", name="Send test message").is_visible()
    webhook.get_by_role("button", name="Remove").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove webhook").click()
    page.locator("[data-testid=webhook-result]", has_text="Webhook removed.").wait_for()
    assert webhook.get_by_label("Webhook URL").is_visible()
    assert call(stack, person, "GET", "/preferences")[1]["webhook"] is None


def test_a_webhook_is_saved_and_tested_on_the_stacks_receiver(
    open_page: Any, stack: dict[str, Any]
) -> None:
    """The local stack accepts http on loopback for the receiver it runs (/webhooks/<name>)."""
    person = new_person(stack, "rosa")
    receiver = f"{stack['dashboard_url']}webhooks/{person.username}"
    session = signed_in(open_page, person)
    page = settings_page(session)
    webhook = page.locator("[data-testid=webhook]")
    webhook.get_by_label("Webhook URL").fill(receiver)
    webhook.get_by_role("button", name="Save webhook").click()
    hint = webhook.get_by_test_id("webhook-hint")
    hint.wait_for()
    assert receiver not in webhook.inner_text()  # never echoed in full
    assert hint.inner_text() == call(stack, person, "GET", "/preferences")[1]["webhook"]["hint"]
    webhook.get_by_role("button", name="Send test message").click()
    page.locator("[data-testid=webhook-result]", has_text="Test message sent.").wait_for()
    with urllib.request.urlopen(stack["outbox_json_url"], timeout=30) as response:
        outbox = json.load(response)
    assert [d["name"] for d in outbox["webhooks"]].count(person.username) == 1


# --- screenshots -----------------------------------------------------------------------------


@pytest.mark.parametrize(("viewport", "prefix"), [(None, ""), (PHONE, "phone-")])
def test_screenshots(open_page: Any, stack: dict[str, Any], viewport: Any, prefix: str) -> None:
    person = new_person(stack, "alex")
    store = store_of(stack)
    samples = [
        (
            "exceeded",
            "You are over your November budget",
            "You have spent $1,052.40 of your $1,000.00 budget (105%).",
            1,
        ),
        (
            "threshold",
            "You have used 85% of your November budget",
            "$850.12 of $1,000.00, with 5 days left. Forecast: $1,010.",
            5,
        ),
        (
            "forecast",
            "November is forecast to end over budget",
            "The month is forecast to end at $1,180.00, above your $1,000.00 budget.",
            26,
        ),
        (
            "restatement",
            "October changed: $912.30 → $948.75",
            "AWS restated October's costs after the month closed.",
            50,
        ),
        (
            "digest",
            "Your weekly costs: $212.48",
            "The past week's costs, and November so far: $850.12.",
            75,
        ),
    ]
    for i, (kind, title, body, hours) in enumerate(samples):
        created = BUSINESS_NOON + timedelta(hours=2) - timedelta(hours=hours)
        store.add(
            Notification(
                notification_id=f"sample-{i}",
                user_id=person.user_id,
                kind=kind,
                title=title,
                body=body,
                link="#/budget",
                created_at=created,
                read_at=None if i < 2 else created,
            )
        )
    # The settings page with everything on it: a budget's threshold, a webhook, a bounce.
    budget = {"userId": person.user_id, "monthlyLimit": "1000", "alertThreshold": 85}
    assert call(stack, person, "POST", "/billing/budgets", budget)[0] == 201
    with_webhook(stack, person)
    stop_email(stack, person)
    session = signed_in(open_page, person, viewport=viewport)
    page = session.page
    wait_for_count(session, 2)
    bell(session).click()
    page.locator("[data-testid=bell-panel] .inbox-item").nth(4).wait_for()
    session.screenshot(f"{prefix}notifications-bell")
    page.keyboard.press("Escape")
    session.go("#/notifications")
    page.locator(".inbox-page .inbox-item").nth(4).wait_for()
    session.wait_idle()
    session.screenshot(f"{prefix}notifications-page")
    session.go("#/settings")
    page.locator("[data-testid=settings-form]").wait_for()
    session.wait_idle()
    session.screenshot(f"{prefix}settings")
