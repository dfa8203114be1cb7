"""The caller's notification preferences: email alerts, digest, the alert threshold and the
chat webhook (set, removed, tested)."""

from __future__ import annotations

import re
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from api import channels, context, convert
from api.lazy import preferences
from api.problems import responses
from api.schemas import PreferencesIn, PreferencesOut
from tally.errors import Invalid
from tally.models import DigestCadence

router = Router()

_VERSION = re.compile(r"[0-9]+\.[0-9]+")


def _with_etag(out: PreferencesOut) -> Response[str]:
    return Response(
        status_code=200,
        content_type="application/json",
        body=out.model_dump_json(by_alias=True),
        headers={"ETag": f'"{out.version}"'},
    )


def _if_match() -> str | None:
    headers = router.current_event.headers or {}
    raw = headers.get("if-match") or headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    version = raw.strip().removeprefix("W/").strip('"')
    if not _VERSION.fullmatch(version):
        raise Invalid.field("If-Match", "If-Match must be the ETag a read returned")
    return version


@router.get(
    "/preferences",
    summary="My notification preferences",
    description="The defaults (email alerts on, no digest) until changed. `alertThreshold` is "
    "the caller's budget's, in force this month (null without a budget).",
    responses=responses(200, PreferencesOut),
    tags=["preferences"],
)
def get_preferences() -> Response[str]:
    return _with_etag(convert.preferences_out(preferences.get_preferences(context.view(router))))


@router.put(
    "/preferences",
    summary="Change my notification preferences",
    description="Give any of the fields; the others stay. `alertThreshold` changes the "
    "caller's budget from the current month on (it is the budget's threshold, kept in one "
    "place) and needs a budget (422 without one). `webhookUrl` must be https on a public host "
    "(a private, loopback or link-local address, after DNS, is 422 on `webhookUrl`); null "
    "removes it. `emailSuppressed: null` resumes email after a bounce or a complaint. Send "
    "If-Match with the ETag of your read to refuse to overwrite a newer change, this one's or "
    "the budget's (409 Conflict).",
    responses=responses(200, PreferencesOut, 409),
    tags=["preferences"],
)
def update_preferences(body: Annotated[PreferencesIn, Body()]) -> Response[str]:
    updated = preferences.update_preferences(
        context.view(router),
        preferences.PreferenceChanges(
            email_alerts=body.email_alerts,
            digest=DigestCadence(body.digest) if body.digest is not None else None,
            alert_threshold=body.alert_threshold,
            webhook_url=body.webhook_url,
            remove_webhook=body.removes_webhook,
            resume_email=body.resumes_email,
            display_currency=body.display_currency,
            clear_display_currency=body.clears_display_currency,
        ),
        expected_version=_if_match(),
        # Only a new URL needs the key and the DNS check.
        webhooks=channels.webhook_guard() if body.webhook_url is not None else None,
    )
    return _with_etag(convert.preferences_out(updated))


@router.post(
    "/preferences/webhook/test",
    status_code=204,
    summary="Send a test message to my webhook",
    description="Posts a sample message to the caller's chat webhook. 409 without a webhook; "
    "422 on `webhookUrl`, with the reason, when the webhook refuses it or cannot be reached.",
    responses=responses(204, None, 409),
    tags=["preferences"],
)
def test_webhook() -> Response[None]:
    preferences.send_test_webhook(
        context.view(router),
        secrets=channels.secret_box(),
        poster=channels.webhook_poster(),
        link=channels.dashboard_url(),
    )
    return Response(status_code=204)
