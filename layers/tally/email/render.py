"""Renders an ``EmailContent`` into what SES sends: subject, HTML, plain text and headers.

Pure: the message in, the email out; nothing is read but the templates. jinja2 and css-inline
are imported on the first render (a function that never sends mail never pays for them), and
the Environment and the inliner are built once per container.

The templates live in ``templates/email`` at the repository's root, or wherever
``TALLY_TEMPLATES_DIR`` points. The default is found relative to this file: three folders up
from ``layers/tally/email/`` is the repository, and from ``/opt/python/tally/email/`` in a
Lambda layer it is ``/opt``, so a layer that carries the folder as ``templates/email`` (next
to ``python/``) needs no setting.
"""

from __future__ import annotations

import os
import re
import textwrap
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tally.email.formatting import (
    format_change,
    format_day,
    format_days,
    format_money,
    format_percent,
)
from tally.email.model import EmailContent, EmailKind, RenderedEmail
from tally.settings import ConfigurationError

if TYPE_CHECKING:
    import css_inline
    import jinja2

TEMPLATES_VARIABLE = "TALLY_TEMPLATES_DIR"
DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parents[3] / "templates" / "email"

# Plain text wraps here: under the 78 characters RFC 5322 recommends, with room for a quote.
TEXT_WIDTH = 72

# How each kind presents itself: the badge's words and its colour family in the templates.
_BADGES = {
    EmailKind.THRESHOLD: ("Budget alert", "warn"),
    EmailKind.EXCEEDED: ("Over budget", "danger"),
    EmailKind.FORECAST: ("Forecast alert", "forecast"),
    EmailKind.DIGEST: ("Summary", "accent"),
    EmailKind.RESTATEMENT: ("Cost update", "accent"),
    EmailKind.ANOMALY: ("Unusual spend", "warn"),
}


def templates_dir(environ: os._Environ[str] | dict[str, str] | None = None) -> Path:
    """Where the email templates are: ``TALLY_TEMPLATES_DIR``, else the repository's."""
    raw = (environ if environ is not None else os.environ).get(TEMPLATES_VARIABLE, "").strip()
    return Path(raw) if raw else DEFAULT_TEMPLATES_DIR


def render(message: EmailContent, *, directory: Path | None = None) -> RenderedEmail:
    """The email for ``message``. ``directory`` overrides where the templates are read."""
    environment = _environment(str(directory or templates_dir()))
    context = {"m": message, **_derived(message)}
    html = environment.get_template(f"{message.kind}.html").render(context)
    text = environment.get_template(f"{message.kind}.txt").render(context)
    return RenderedEmail(
        subject=one_line(message.subject),
        html=_charset_first(_inliner().inline(html)),
        text=_tidy_text(text),
        headers=_headers(message),
    )


def render_template(
    template: str,
    message: Any,
    context: dict[str, Any],
    *,
    directory: Path | None = None,
) -> RenderedEmail:
    """An email that is not an ``EmailContent`` (an invoice's cover note), made as ``render``
    makes the others: ``<template>.html`` and ``.txt`` with the same filters, inlining and
    tidying. ``message`` is the templates' ``m``: it has the ``subject``, ``period_label``,
    ``headline`` and ``to_name`` the base templates show; ``context`` gives ``badge``,
    ``tone`` and whatever else the template reads."""
    environment = _environment(str(directory or templates_dir()))
    values = {"m": message, **context}
    html = environment.get_template(f"{template}.html").render(values)
    text = environment.get_template(f"{template}.txt").render(values)
    return RenderedEmail(
        subject=one_line(message.subject),
        html=_charset_first(_inliner().inline(html)),
        text=_tidy_text(text),
        headers={},
    )


def one_line(subject: str) -> str:
    """The subject as one header line: any line break or run of whitespace (a user's name
    can carry one) becomes a single space, so nothing can start a header of its own."""
    return " ".join(subject.split())


def _headers(message: EmailContent) -> dict[str, str]:
    if message.unsubscribe_url is None:
        return {}
    # RFC 8058 one-click: mail providers POST "List-Unsubscribe=One-Click" to the URL.
    return {
        "List-Unsubscribe": f"<{message.unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _derived(message: EmailContent) -> dict[str, Any]:
    """What the templates would otherwise compute: the bar's fill, the badge, totals."""
    badge, tone = _BADGES[message.kind]
    if message.kind is EmailKind.DIGEST:
        badge = "Daily summary" if message.cadence == "daily" else "Weekly summary"
    figures = message.figures
    bar = 0
    over = False
    if figures is not None:
        if figures.limit > 0:
            # Credits can leave a month's spend below zero: the bar is then empty.
            bar = max(0, min(100, int(figures.spent * 100 / figures.limit)))
            over = figures.spent >= figures.limit
        else:
            bar = 100 if figures.spent > 0 else 0
            over = figures.spent > 0
    projected_over = (
        figures is not None
        and figures.projection is not None
        and figures.projection > figures.limit
    )
    return {
        "changed_by": _changed_by(message),
        "badge": badge,
        "tone": tone,
        "bar": bar,
        "over": over,
        "projected_over": projected_over,
        "days_total": sum((d.amount for d in message.days), Decimal(0)),
    }


def _changed_by(message: EmailContent) -> str:
    restated = message.restatement
    if restated is None:
        return ""
    change = restated.after - restated.before
    if change == 0:
        return "The total is the same; only its details changed."
    more = "more" if change > 0 else "less"
    return f"That is {format_money(abs(change), message.currency)} {more} than before."


def _charset_first(html: str) -> str:
    """The inliner puts the kept @media rules first in <head>; the charset must come within
    the first 1024 bytes for a browser (the outbox's preview frame) to honour it."""
    meta = '<meta charset="utf-8">'
    return html.replace(meta, "", 1).replace("<head>", "<head>" + meta, 1)


def _tidy_text(text: str) -> str:
    """Trailing spaces off every line, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def _row(label: str, value: str, width: int = 52) -> str:
    """A label and a right-aligned value on one line of plain text; a label too long for it
    is shortened rather than wrapped, so the values stay in one column."""
    room = width - len(value) - 2
    if len(label) > room:
        cut = label[: room - 3]
        # End on a word when that keeps most of the label; one long word is cut mid-word.
        space = len(cut) if label[len(cut)] == " " else cut.rfind(" ")
        label = (cut[:space] if space > room // 2 else cut).rstrip(" -") + "..."
    return f"{label}  {value.rjust(width - len(label) - 2)}"


def _wrap(paragraph: str) -> str:
    """One paragraph of plain text, its line breaks redone at ``TEXT_WIDTH``. Words are never
    split, so a long link stays whole (and clickable) on a line of its own."""
    return textwrap.fill(
        " ".join(paragraph.split()),
        TEXT_WIDTH,
        break_long_words=False,
        break_on_hyphens=False,
    )


@lru_cache(maxsize=4)
def _environment(directory: str) -> jinja2.Environment:
    import jinja2

    if not Path(directory, "base.html").is_file():
        raise ConfigurationError(
            f"no email templates in {directory}: set {TEMPLATES_VARIABLE} to templates/email"
        )
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        # HTML is escaped; the plain-text part is not HTML, so escaping it would show "&amp;".
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,  # a misspelt field fails the render, not the email
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        money=format_money,
        change=format_change,
        days=format_days,
        percent=format_percent,
        day=format_day,
        row=_row,
        wrap=_wrap,
    )
    environment.globals["TEXT_WIDTH"] = TEXT_WIDTH
    return environment


@lru_cache(maxsize=1)
def _inliner() -> css_inline.CSSInliner:
    import css_inline

    # Mail clients drop <style> (Gmail keeps it only in part): rules become style attributes.
    # The @media rules (dark mode, phones) cannot be inlined and stay in one <style>.
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
