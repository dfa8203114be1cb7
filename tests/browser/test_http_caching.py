"""Issue 14's acceptance for caching, in Chromium against the local stack: the dashboard's
second load revalidates what the browser kept (If-None-Match) and the API answers 304 for the
unchanged summary, so nothing unchanged is downloaded again.

Chromium hands the page (and Playwright's ``response.status``) the kept 200 once a 304 has
revalidated it; what went over the wire is in the DevTools protocol's raw response
(``Network.responseReceivedExtraInfo``: status 304) and the response's size (no body)."""

from __future__ import annotations

from typing import Any

from tests.browser.test_dashboard import signed_in


def test_the_second_load_revalidates_the_summary(open_page: Any) -> None:
    session = signed_in(open_page, "alice")
    page = session.page
    session.wait_for_charts()
    session.wait_idle()

    responses: list[Any] = []
    page.on("response", lambda r: responses.append(r) if r.url.endswith("/summary") else None)
    wire: dict[str, int] = {}  # request id -> the status the API answered
    cdp = session.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on(
        "Network.responseReceivedExtraInfo",
        lambda e: wire.__setitem__(e["requestId"], e["statusCode"]),
    )
    sent: dict[str, str] = {}  # request id -> url
    cdp.on(
        "Network.requestWillBeSent",
        lambda e: sent.__setitem__(e["requestId"], e["request"]["url"]),
    )
    page.reload()
    page.locator("header.topbar").wait_for()
    session.wait_for_charts()
    session.wait_idle()

    assert responses, "the second load read no summary"
    for response in responses:
        etag = response.request.all_headers().get("if-none-match")
        assert etag and response.all_headers().get("etag") == etag, response.url
        assert response.request.sizes()["responseBodySize"] == 0, response.url
    summaries = [wire[i] for i, url in sent.items() if url.endswith("/summary") and i in wire]
    assert summaries and set(summaries) == {304}, summaries
    # The page shows the figures the 304 let it keep.
    assert page.locator("[data-value]").first.inner_text().strip()
