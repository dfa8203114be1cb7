"""The caller's notification preferences: email alerts, digest, and the alert threshold."""

from __future__ import annotations

import re
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from api import context, convert
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
    "place) and needs a budget (422 without one). Send If-Match with the ETag of your read to "
    "refuse to overwrite a newer change, this one's or the budget's (409 Conflict).",
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
        ),
        expected_version=_if_match(),
    )
    return _with_etag(convert.preferences_out(updated))
