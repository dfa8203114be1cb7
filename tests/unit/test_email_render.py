"""Email rendering: every kind against golden files, escaping, the text part, headers.

The golden files are the emails byte for byte. After a deliberate change to a template,
rewrite them with ``TALLY_UPDATE_GOLDEN=1`` and read the diff before committing it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tally.email.formatting import format_change, format_day, format_money, format_percent
from tally.email.model import (
    AnomalyFacts,
    DaySpend,
    Driver,
    EmailContent,
    EmailKind,
    Figures,
    Restatement,
)
from tally.email.render import DEFAULT_TEMPLATES_DIR, TEMPLATES_VARIABLE, one_line, render
from tally.settings import ConfigurationError

GOLDEN = Path(__file__).parent / "golden" / "email"
# Read at import: the autouse fixture clears every TALLY_ variable before a test runs.
UPDATE_GOLDEN = os.environ.get("TALLY_UPDATE_GOLDEN") == "1"

DASHBOARD = "https://tally.example.com/"
SETTINGS = "https://tally.example.com/#/settings"
UNSUBSCRIBE = "https://api.tally.example.com/api/unsubscribe?token=eyJ1IjoidS0xIn0.c2lnbmF0dXJl"
DRIVERS = (
    Driver("Amazon Elastic Compute Cloud - Compute", Decimal("512.4049")),
    Driver("Amazon Relational Database Service", Decimal("201.1")),
    Driver("Amazon Simple Storage Service", Decimal("88.25")),
)


def _alert(kind: EmailKind, subject: str, headline: str, figures: Figures) -> EmailContent:
    return EmailContent(
        kind=kind,
        to_name="Ada Lovelace",
        subject=subject,
        headline=headline,
        period_label="November 2026",
        currency="USD",
        dashboard_url=DASHBOARD,
        settings_url=SETTINGS,
        figures=figures,
        drivers=DRIVERS,
    )


MONTH_SO_FAR = Figures(
    spent=Decimal("850.00"),
    limit=Decimal("1000"),
    percent=85,
    days_left=10,
    projection=Decimal("1240.50"),
)

MESSAGES: dict[str, EmailContent] = {
    "threshold": _alert(
        EmailKind.THRESHOLD,
        "You have used 85% of your November AWS budget",
        "You have used 85% of your November budget",
        MONTH_SO_FAR,
    ),
    "exceeded": _alert(
        EmailKind.EXCEEDED,
        "Over budget: your November AWS spend is $1,032.75 of $1,000.00",
        "You are over your November budget",
        Figures(Decimal("1032.75"), Decimal("1000"), Decimal("103.2"), 10, Decimal("1512.00")),
    ),
    "forecast": _alert(
        EmailKind.FORECAST,
        "Your November AWS spend is on course for $1,150.00, over its $1,000.00 budget",
        "November is on course to end over budget",
        Figures(Decimal("610"), Decimal("1000"), 61, 10, Decimal("1150")),
    ),
    "digest_daily": EmailContent(
        kind=EmailKind.DIGEST,
        to_name="Ada Lovelace",
        subject="Tally daily: $42.10 on Thu 19 Nov, $850.00 of $1,000.00 in November",
        headline="$42.10 spent on Thursday",
        period_label="Thursday 19 November 2026",
        currency="USD",
        dashboard_url=DASHBOARD,
        settings_url=SETTINGS,
        figures=MONTH_SO_FAR,
        drivers=DRIVERS,
        cadence="daily",
        days=(DaySpend(date(2026, 11, 19), Decimal("42.1")),),
        unsubscribe_url=UNSUBSCRIBE,
    ),
    "digest_weekly": EmailContent(
        kind=EmailKind.DIGEST,
        to_name="Ada Lovelace",
        subject="Tally weekly: $251.72 last week, $850.00 of $1,000.00 in November",
        headline="$251.72 spent last week",
        period_label="Week of 9 November 2026",
        currency="USD",
        dashboard_url=DASHBOARD,
        settings_url=SETTINGS,
        figures=MONTH_SO_FAR,
        drivers=DRIVERS,
        cadence="weekly",
        days=tuple(
            DaySpend(date(2026, 11, 9) + timedelta(days=i), Decimal(amount))
            for i, amount in enumerate(
                ("40.10", "38.02", "41.55", "39.90", "44.00", "23.5", "24.65")
            )
        ),
        unsubscribe_url=UNSUBSCRIBE,
    ),
    "restatement": EmailContent(
        kind=EmailKind.RESTATEMENT,
        to_name="Ada Lovelace",
        subject="October changed: $1,204.33 -> $1,187.90",
        headline="Your October costs changed",
        period_label="October 2026",
        currency="USD",
        dashboard_url="https://tally.example.com/#/costs?month=2026-10",
        restatement=Restatement(before=Decimal("1204.33"), after=Decimal("1187.9")),
    ),
    "anomaly": EmailContent(
        kind=EmailKind.ANOMALY,
        to_name="Ada Lovelace",
        subject="Unusual spend on AmazonEC2: $55.60 above normal",
        headline="alice-notebook (AmazonEC2) cost $68.10 on 8 to 9 November 2026, about $12.50 "
        "expected.",
        period_label="8 to 9 November 2026",
        currency="USD",
        dashboard_url="https://tally.example.com/#/anomalies",
        settings_url=SETTINGS,
        anomaly=AnomalyFacts(
            days_label="8 to 9 November 2026",
            cause="alice-notebook (AmazonEC2)",
            usage_unit="Hrs",
            expected=Decimal("12.5"),
            actual=Decimal("68.1"),
            impact=Decimal("55.6"),
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_each_kind_matches_its_golden_files(name: str) -> None:
    email = render(MESSAGES[name])
    for suffix, rendered in (("html", email.html), ("txt", email.text)):
        golden = GOLDEN / f"{name}.{suffix}"
        if UPDATE_GOLDEN:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(rendered, encoding="utf-8")
            continue
        assert golden.is_file(), f"{golden} is missing: run with TALLY_UPDATE_GOLDEN=1"
        assert rendered == golden.read_text(encoding="utf-8"), (
            f"{name}.{suffix} differs from its golden file; if the change is meant, "
            "rewrite it with TALLY_UPDATE_GOLDEN=1 and review the diff"
        )
    assert email.subject == MESSAGES[name].subject


def test_every_template_has_a_golden_file_and_every_kind_a_message() -> None:
    assert {m.kind for m in MESSAGES.values()} == set(EmailKind)
    for kind in EmailKind:
        assert (DEFAULT_TEMPLATES_DIR / f"{kind}.html").is_file()
        assert (DEFAULT_TEMPLATES_DIR / f"{kind}.txt").is_file()
    if not UPDATE_GOLDEN:
        expected = {f"{name}.{suffix}" for name in MESSAGES for suffix in ("html", "txt")}
        assert {p.name for p in GOLDEN.iterdir()} == expected


def test_the_html_carries_the_figures_and_inlined_styles() -> None:
    html = render(MESSAGES["threshold"]).html

    assert "$850.00" in html and "$1,000.00" in html and "$1,240.50" in html
    assert "$512.40" in html  # the driver, rounded to cents
    assert "85%" in html and "10 days" in html
    assert f'href="{DASHBOARD}"' in html and f'href="{SETTINGS}"' in html
    # Inlined: the headline's colour is on the element, not only in <style>.
    assert re.search(r'<h1 class="headline" style="[^"]*color: #18202e', html)
    # What cannot be inlined stays: dark mode and the phone layout.
    assert "@media (prefers-color-scheme: dark)" in html
    assert "@media (max-width: 480px)" in html


def test_user_supplied_text_is_escaped_in_html() -> None:
    evil = "<script>alert(1)</script> & Co"
    message = replace(
        MESSAGES["threshold"],
        to_name=evil,
        headline=f"Hi {evil}",
        drivers=(Driver('<img src=x onerror="boom">', Decimal(1)),),
    )
    html = render(message).html

    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert '&lt;img src=x onerror="boom"&gt;' in html
    # The text part is not HTML: it shows the name as typed, not entities.
    assert f"Hi {evil}," in render(message).text


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_the_text_part_reads_alone(name: str) -> None:
    text = render(MESSAGES[name]).text

    assert not re.search(r"</?[a-zA-Z][^>]*>", text), "no HTML tags in the text part"
    assert "&amp;" not in text and "&lt;" not in text and "&rarr;" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "\n\n\n" not in text
    long_lines = [
        line for line in text.splitlines() if len(line) > 78 and not line.startswith("https://")
    ]
    assert long_lines == []
    # The links a reader needs are there, each on a line of its own.
    assert MESSAGES[name].dashboard_url in text.splitlines()


def test_text_rows_keep_values_in_one_column() -> None:
    text = render(MESSAGES["threshold"]).text

    rows = {
        line.strip().split("  ")[0]: line
        for line in text.splitlines()
        if line.startswith("  ") and "$" in line
    }
    ends = {len(line) for line in rows.values()}
    assert len(ends) == 1, rows  # every amount ends in the same column
    assert re.search(r"^  Amazon Elastic Compute Cloud - Compute +\$512\.40$", text, re.M)


def test_a_driver_name_too_long_for_its_row_is_shortened() -> None:
    name = "Amazon Elastic Compute Cloud - Compute - Savings Plan covered usage in us-east-1"
    message = replace(MESSAGES["threshold"], drivers=(Driver(name, Decimal("1234567.891")),))
    email = render(message)

    assert "  Amazon Elastic Compute Cloud...        $1,234,567.89\n" in email.text
    assert name in email.html  # the HTML cell wraps instead


def test_digest_headers_are_one_click_unsubscribe() -> None:
    for name in ("digest_daily", "digest_weekly"):
        email = render(MESSAGES[name])
        assert email.headers == {
            "List-Unsubscribe": f"<{UNSUBSCRIBE}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        assert f'href="{UNSUBSCRIBE}"' in email.html
        assert UNSUBSCRIBE in email.text.splitlines()


@pytest.mark.parametrize("name", ["threshold", "exceeded", "forecast", "restatement"])
def test_other_emails_have_no_unsubscribe_headers(name: str) -> None:
    email = render(MESSAGES[name])
    assert email.headers == {}
    assert "unsubscribe" not in email.html.lower()


def test_a_subject_cannot_start_a_header_of_its_own() -> None:
    message = replace(
        MESSAGES["threshold"], subject="85% used by Ada\r\nBcc: everyone@example.com\n\tx"
    )
    subject = render(message).subject

    assert subject == "85% used by Ada Bcc: everyone@example.com x"
    assert one_line("a\u2028b\x85c\x0bd") == "a b c d"


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": " \n "},
        {"dashboard_url": "javascript:alert(1)"},
        {"dashboard_url": "https://x.example/\r\nBcc: y"},
        {"settings_url": "https://x.example/a b"},
        {"unsubscribe_url": UNSUBSCRIBE},  # only a digest has one
        {"figures": None},
        {"restatement": Restatement(Decimal(1), Decimal(2))},
        {"cadence": "daily"},
    ],
)
def test_an_alert_that_would_render_wrong_cannot_be_built(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        replace(MESSAGES["threshold"], **changes)


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("digest_daily", {"unsubscribe_url": None}),
        ("digest_daily", {"unsubscribe_url": "https://x.example/u?t=<a>"}),
        ("digest_daily", {"days": ()}),
        ("digest_daily", {"cadence": None}),
        ("forecast", {"figures": replace(MONTH_SO_FAR, projection=None)}),
        ("restatement", {"restatement": None}),
    ],
)
def test_digests_forecasts_and_restatements_need_their_parts(
    name: str, changes: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        replace(MESSAGES[name], **changes)


def test_a_zero_budget_reads_as_any_spend_and_fills_the_bar() -> None:
    message = replace(
        MESSAGES["exceeded"],
        figures=Figures(Decimal("0.42"), Decimal(0), None, 0, None),
        drivers=(),
    )
    email = render(message)

    assert "A zero budget: any spend is over it" in email.html
    assert 'class="bar-cell bar-danger" height="8" width="100%"' in email.html  # full
    assert "Used" not in email.text and "Projected" not in email.text
    assert "Top cost drivers" not in email.text
    assert "drivers below" not in email.text and "drivers below" not in email.html
    assert "November 2026 is over." in email.text  # days_left 0: the month has ended
    # Not "past its budget of $0.00": a zero budget says what it means.
    assert "$0.00." not in email.text and "is zero, so any spending is over it" in email.text
    assert "is zero, so any spending is over it" in email.html


def test_the_bar_is_empty_without_spend_and_partial_on_the_way() -> None:
    def bar_cells(spent: str) -> list[str]:
        figures = replace(MONTH_SO_FAR, spent=Decimal(spent), percent=None)
        html = render(replace(MESSAGES["threshold"], figures=figures)).html
        return re.findall(r'<td class="bar-cell( bar-\w+)?" height="8" width="(\d+)%"', html)

    assert bar_cells("0") == [("", "100")]
    assert bar_cells("-12.50") == [("", "100")]  # credits: net spend below zero
    assert bar_cells("333.33") == [(" bar-warn", "33"), ("", "67")]
    assert bar_cells("1000") == [(" bar-danger", "100")]


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1234.565", "USD", "$1,234.56"),  # half to even, at the edge only
        ("1234.575", "USD", "$1,234.58"),
        ("-5", "USD", "-$5.00"),
        ("-0.001", "USD", "$0.00"),
        ("0", "EUR", "0.00 EUR"),
        ("1000000", "GBP", "1,000,000.00 GBP"),
        ("99.9", "CHF", "99.90 CHF"),
    ],
)
def test_money_is_spelled_one_way(amount: str, currency: str, expected: str) -> None:
    assert format_money(Decimal(amount), currency) == expected


def test_changes_and_days_are_spelled_for_people() -> None:
    assert format_change(Decimal("12"), "USD") == "+$12.00"
    assert format_change(Decimal("-16.43"), "USD") == "-$16.43"
    assert format_percent(85) == "85%"
    assert format_percent(Decimal("85.0")) == "85%"
    assert format_percent(Decimal("85.30")) == "85.3%"
    assert format_percent(Decimal("103")) == "103%"
    assert format_day(date(2028, 2, 29)) == "Tue 29 Feb"
    assert format_day(date(2027, 1, 1)) == "Fri 1 Jan"


def test_templates_come_from_the_setting_when_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    copy = tmp_path / "email"
    shutil.copytree(DEFAULT_TEMPLATES_DIR, copy)
    (copy / "restatement.txt").write_text("{{ m.period_label }} from the setting\n")
    monkeypatch.setenv(TEMPLATES_VARIABLE, str(copy))

    assert render(MESSAGES["restatement"]).text == "October 2026 from the setting\n"

    monkeypatch.setenv(TEMPLATES_VARIABLE, str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError, match=TEMPLATES_VARIABLE):
        render(MESSAGES["restatement"])


def test_jinja2_and_the_inliner_load_on_the_first_render_only() -> None:
    probe = (
        "import sys, tally.email.render as r\n"
        "assert not {'jinja2', 'css_inline'} & set(sys.modules), 'loaded at import'\n"
        "r.render(__import__('tests.unit.test_email_render').unit.test_email_render"
        ".MESSAGES['threshold'])\n"
        "assert {'jinja2', 'css_inline'} <= set(sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(["layers", "functions", "."])}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
