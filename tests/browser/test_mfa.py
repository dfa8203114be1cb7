"""Two-step sign-in (TOTP) in the dashboard, against the local stack's Cognito (moto, which
checks codes against the one secret it hands every user, so the test reads the secret off the
page as a person would type it into an app).

Each test signs in a user of its own: turning TOTP on for a demo user would change how every
other browser test signs in.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from infra.local.aws import aws_client
from tally.tables import ADMIN_GROUP, USER_GROUP
from tests.browser.conftest import Session, fulfil, real_answer
from tests.totp import code_now, wrong_code

PASSWORD = "Two-Step-Sign-in-42"
_numbers = itertools.count(1)


def new_user(local_json: dict[str, Any], group: str) -> str:
    """A confirmed user with a permanent password, in ``group``, that no other test uses."""
    username = f"mfa-{group}-{next(_numbers)}"
    cognito = aws_client("cognito-idp", local_json["aws_endpoint_url"], local_json["region"])
    pool = local_json["user_pool_id"]
    cognito.admin_create_user(
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
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=group)
    return username


def enter_password(session: Session, username: str) -> None:
    page = session.page
    page.goto(session.url)
    page.get_by_label("User name or email").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def turn_on_totp(session: Session) -> str:
    """On the Security page: start, read the key, enter the app's code. Returns the key."""
    page = session.page
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    uri = (page.get_by_test_id("totp-uri").text_content() or "").strip()  # in <details>
    assert uri.startswith("otpauth://totp/Tally%3A") and f"secret={secret}" in uri
    page.get_by_label("6-digit code from your authenticator app").fill(code_now(secret))
    page.get_by_role("button", name="Turn on", exact=True).click()
    page.get_by_test_id("totp-status").filter(has_text="On.").wait_for()
    return secret


def test_a_user_turns_on_totp_and_signs_in_with_a_code(
    open_page: Callable[..., Session], stack: dict[str, Any]
) -> None:
    username = new_user(stack, USER_GROUP)
    session = open_page()
    page = session.page
    enter_password(session, username)
    page.locator("header.topbar").wait_for()

    session.go("#/security")
    page.get_by_test_id("totp-status").filter(has_text="Off.").wait_for()
    session.screenshot("security-totp-off")
    secret = turn_on_totp(session)
    session.screenshot("security-totp-on")

    page.get_by_role("button", name="Sign out").click()
    enter_password(session, username)
    page.get_by_role("heading", name="Two-step sign-in").wait_for()

    # A wrong code is refused in words, and the same step takes the right one after it.
    session.console.expect("400")
    page.get_by_label("6-digit code from your authenticator app").fill(wrong_code(secret))
    page.get_by_role("button", name="Verify").click()
    refusal = page.locator(".field-error").filter(has_text="That code is not right")
    refusal.wait_for()
    session.screenshot("signin-totp-wrong-code")
    page.get_by_label("6-digit code from your authenticator app").fill(code_now(secret))
    page.get_by_role("button", name="Verify").click()
    page.locator("header.topbar").wait_for()
    assert page.get_by_test_id("signed-in-user").inner_text() == username


def test_a_code_that_is_not_six_digits_is_refused_before_sending(
    open_page: Callable[..., Session], stack: dict[str, Any]
) -> None:
    username = new_user(stack, USER_GROUP)
    session = open_page()
    enter_password(session, username)
    session.page.locator("header.topbar").wait_for()
    session.go("#/security")
    session.page.get_by_role("button", name="Turn on two-step sign-in").click()
    session.page.get_by_label("6-digit code from your authenticator app").fill("12a4")
    session.page.get_by_role("button", name="Turn on", exact=True).click()
    session.page.locator(".field-error").filter(has_text="Enter the 6 digits").wait_for()


def test_an_admin_the_api_requires_totp_of_is_led_to_set_it_up(
    open_page: Callable[..., Session], stack: dict[str, Any]
) -> None:
    # The local stack does not require TOTP of admins (its demo admin signs in with a
    # password); the API's answer is what a deployment with requireAdminMfa gives (see
    # tests/api/test_admin_mfa.py), so the dashboard's part is tested on its own here.
    username = new_user(stack, ADMIN_GROUP)
    session = open_page()
    page = session.page
    state = {"required": True}

    def me(route: Any) -> None:
        status, content_type, body = real_answer(route)
        body["mfaSetupRequired"] = state["required"]
        fulfil(route, status, content_type, body)

    page.route("**/api/me", me)
    enter_password(session, username)
    page.get_by_test_id("mfa-required").wait_for()
    assert page.evaluate("window.location.hash") == "#/security"
    session.screenshot("security-admin-must-set-up")
    state["required"] = False  # what the API answers once TOTP is on
    turn_on_totp(session)
    assert page.get_by_test_id("mfa-required").count() == 0
