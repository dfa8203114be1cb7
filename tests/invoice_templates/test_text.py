"""Template text is data, never code: every escape a template may try is refused at save time
with 422 naming the field, and a saved text renders without error."""

from __future__ import annotations

import time

import pytest

from tally.errors import Invalid
from tally.invoice_templates import text

ATTACKS = [
    # Python objects through attributes, items and calls.
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ number.__class__.__init__.__globals__ }}",
    "{{ number['__class__'] }}",
    "{{ number|attr('__class__') }}",
    "{{ lipsum.__globals__.os.popen('id').read() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ self.__init__ }}",
    "{{ namespace() }}",
    # Files.
    "{% include '/etc/passwd' %}",
    "{% import '/etc/passwd' as p %}",
    "{% extends '/etc/passwd' %}",
    "{% from 'x' import y %}",
    # Settings, the environment, other users' data: names that are not the invoice's.
    "{{ settings }}",
    "{{ config }}",
    "{{ environ }}",
    "{{ stores.users.get('u-bob') }}",
    "{{ request }}",
    "{{ invoice }}",
    "{{ user }}",
    # Unbounded work and output.
    "{% for i in range(10**9) %}x{% endfor %}",
    "{% for i in number %}{% for j in number %}x{% endfor %}{% endfor %}",
    "{{ 'x' * 1000000000 }}",
    "{{ 9 ** 999999 }}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{% set x = 1 %}",
    "{% filter upper %}x{% endfilter %}",
    "{{ number|replace('', 'x') }}",
    "{{ number|truncate(5) }}",
    "{{ number|format('%s') }}",
    # Not even a template.
    "{{ number }",
    "{% if %}",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_escape_is_refused_at_save_time_on_its_field(attack: str) -> None:
    started = time.perf_counter()
    with pytest.raises(Invalid) as refused:
        text.check("terms", attack)
    assert [e.field for e in refused.value.errors] == ["terms"]
    assert time.perf_counter() - started < 1  # refused, not run


@pytest.mark.parametrize(
    "attack",
    [
        "{{ ''.__class__.__mro__ }}",
        "{% include '/etc/passwd' %}",
        "{{ settings }}",
        "{{ range(10**9)|list }}",
        "{{ lipsum() }}",
    ],
)
def test_the_sandbox_alone_also_refuses_them(attack: str) -> None:
    """The second wall, should the grammar check ever miss one: rendering in the sandbox,
    with no loader, no globals and strict undefined names, refuses too (as ``Invalid``)."""
    with pytest.raises(Invalid):
        text.render("terms", attack, text.SAMPLE_FIELDS)


def test_placeholders_filters_and_conditions_render_from_the_invoice_fields_only() -> None:
    source = (
        "Invoice {{ number }} for {{ subject|upper }}, {{ period }}: {{ totals }}."
        "{% if provisional %} (provisional){% else %} (final){% endif %}"
    )
    assert text.check("header", source) == source
    values = dict(text.SAMPLE_FIELDS, number="ACME-2026-00007", provisional="yes")
    assert text.render("header", source, values) == (
        "Invoice ACME-2026-00007 for SAMPLE PERSON, November 2026: 1,234.50 USD. (provisional)"
    )


def test_plain_text_with_braces_of_its_own_is_refused_or_kept_as_written() -> None:
    assert text.render("footer", "Acme GmbH · Berlin", {}) == "Acme GmbH · Berlin"
    with pytest.raises(Invalid):
        text.check("footer", "use {{ this")


def test_the_output_is_capped() -> None:
    long = "{{ subject }}" * 150  # within the source cap
    values = dict(text.SAMPLE_FIELDS, subject="x" * 200)
    assert len(text.render("terms", long, values)) == text.MAX_OUTPUT


def test_an_overlong_source_is_refused() -> None:
    with pytest.raises(Invalid, match="at most"):
        text.check("terms", "x" * (text.MAX_SOURCE + 1))
