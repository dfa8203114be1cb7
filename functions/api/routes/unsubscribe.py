"""One-click unsubscribe from the digest (RFC 8058): public routes, authorised by the signed,
expiring token in the email's link, not by a Cognito token (``handler.PUBLIC_PATHS``).

GET shows a page with a button and changes nothing: mail scanners and link previews fetch
links. POST does it: the page's button, or a mail client's one-click (body
``List-Unsubscribe=One-Click``, form-encoded; the body is not needed, the token decides).
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from api import channels, context
from api.lazy import unsubscribe
from api.problems import responses
from api.schemas import UnsubscribeOut
from tally.clock import utc_now
from tally.errors import Invalid

router = Router()

PATH = "/unsubscribe"
# No script, no outside resource; the form posts back to this URL; never framed.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1f2933}button{font:inherit;padding:.6rem 1.2rem;border:0;"
    "border-radius:.4rem;background:#1d4ed8;color:#fff;cursor:pointer}"
)


def _public_responses(model: type[UnsubscribeOut] | None) -> dict[int, Any]:
    """The OpenAPI responses of a public route: no 401 (no sign-in), a page for a browser."""
    out = {status: r for status, r in responses(200, model).items() if status != 401}
    out[200] = {
        "description": "done (JSON) or the page (HTML, for Accept: text/html)"
        if model
        else "the confirmation page",
        "content": {**out[200].get("content", {}), "text/html": {}},
    }
    return out


Token = Annotated[
    str,
    Query(min_length=1, max_length=1024, description="the signed token from the email's link"),
]


def _page(status: int, title: str, paragraphs: list[str], *, form: bool = False) -> Response[str]:
    settings = channels.dashboard_url()
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    if settings:
        body += f'<p><a href="{escape(settings + "#/settings")}">Open your Tally settings</a></p>'
    if form:
        # No action: the form posts to this page's own URL, token included.
        body += (
            '<form method="post"><input type="hidden" name="List-Unsubscribe" '
            'value="One-Click"><button type="submit">Unsubscribe</button></form>'
        )
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=html,
        headers=_PAGE_HEADERS,
    )


def _wants_html() -> bool:
    headers = router.current_event.headers or {}
    accept = next((v for k, v in headers.items() if k.lower() == "accept"), "") or ""
    return "text/html" in accept


def _refused(error: Invalid) -> Response[str]:
    """An altered or expired link: a page for a person, the problem for a program."""
    if not _wants_html():
        raise error
    return _page(
        422,
        "This link does not work",
        [error.detail, "You can turn the digest off in your Tally settings."],
    )


@router.get(
    PATH,
    summary="Confirm unsubscribing from the digest",
    description="Public (the token authorises): an HTML page with a button that POSTs here. "
    "Changes nothing itself, since mail scanners fetch links. 422 on `token` when the link "
    "was altered or has expired.",
    responses=_public_responses(None),
    tags=["unsubscribe"],
    security=[{}],
)
def confirm_page(token: Token) -> Response[str]:
    try:
        unsubscribe.check_token(channels.unsubscribe_signer(), token, now=utc_now())
    except Invalid as error:
        return _refused(error)
    return _page(
        200,
        "Stop the cost digest?",
        [
            "You will no longer receive Tally's cost digest by email. Budget alerts are not "
            "affected: they have their own switch in your settings."
        ],
        form=True,
    )


@router.post(
    PATH,
    summary="Unsubscribe from the digest (one click)",
    description="Public (the token authorises), RFC 8058 one-click: a mail client POSTs "
    "`List-Unsubscribe=One-Click` (form-encoded). Turns the token's user's digest off; doing "
    "it again changes nothing. An HTML page for a browser (Accept: text/html), JSON otherwise. "
    "422 on `token` when the link was altered or has expired.",
    responses=_public_responses(UnsubscribeOut),
    tags=["unsubscribe"],
    security=[{}],
)
def unsubscribe_digest(token: Token) -> Response[str]:
    try:
        saved = unsubscribe.unsubscribe_digest(
            context.stores(), channels.unsubscribe_signer(), token, now=utc_now()
        )
    except Invalid as error:
        return _refused(error)
    if _wants_html():
        return _page(
            200,
            "You are unsubscribed",
            [
                "You will not receive the cost digest any more. You can turn it back on in "
                "your Tally settings."
            ],
        )
    out = UnsubscribeOut(digest=saved.digest.value)  # type: ignore[arg-type]
    return Response(
        status_code=200, content_type="application/json", body=out.model_dump_json(by_alias=True)
    )
