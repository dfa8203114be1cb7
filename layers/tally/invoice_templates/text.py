"""A template's header, footer and terms: data with ``{{ placeholders }}``, never code.

Three walls, each enough on its own for the attacks tests/invoice_templates/test_text.py tries:

1. At save time the text is parsed and only a small grammar is accepted: literal text,
   ``{{ field }}`` with a few harmless filters (``upper``, ``lower``, ``title``,
   ``capitalize``, ``trim``), ``{% if field %}...{% else %}...{% endif %}`` with
   comparisons. No attribute or item access (``''.__class__``), no calls (``range``,
   ``cycler``), no loops, macros, includes, imports, blocks or arithmetic: nothing that reaches
   a file, a Python object or unbounded work. The fields are the invoice's own
   (``FIELDS``); any other name (``settings``, ``stores``, another user) is refused.
2. Rendering uses jinja2's ``ImmutableSandboxedEnvironment`` with no loader and
   ``StrictUndefined``, over a context holding only those fields as plain strings.
3. The output is capped (``MAX_OUTPUT``).

Every refusal is an ``Invalid`` naming the field (422 at save time); a saved text therefore
renders, so rendering an invoice never fails on its template. jinja2 is imported on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tally.errors import Invalid

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_SOURCE = 2000  # characters of one text as typed
MAX_OUTPUT = 4000  # characters of one text as rendered

# The invoice's own fields a text may name, with what each holds.
FIELDS: dict[str, str] = {
    "number": "the invoice number",
    "period": "the billing period, e.g. November 2026",
    "period_start": "the period's first day (YYYY-MM-DD)",
    "period_end": "the period's last day (YYYY-MM-DD)",
    "issued": "the issue date (YYYY-MM-DD)",
    "subject": "whom the invoice is for (a person's or a cost center's name)",
    "organisation": "the issuing organisation's name",
    "totals": "the totals, one per currency, e.g. 1,234.50 USD",
    "provisional": "'yes' while the month's figures may still change, else ''",
}
FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim"})

# A made-up invoice every text is rendered against before it is saved (and the preview's).
SAMPLE_FIELDS: dict[str, str] = {
    "number": "INV-202611-00001",
    "period": "November 2026",
    "period_start": "2026-11-01",
    "period_end": "2026-11-30",
    "issued": "2026-12-01",
    "subject": "Sample Person",
    "organisation": "Sample Organisation",
    "totals": "1,234.50 USD",
    "provisional": "",
}

_REFUSED = (
    "only text, {{ field }} placeholders (with upper, lower, title, capitalize or trim) and "
    "{% if %} blocks are allowed"
)


@lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    # No loader: {% include %}, {% import %} and {% extends %} have nothing to read from.
    env = ImmutableSandboxedEnvironment(
        loader=None, undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )
    env.globals.clear()  # no range, dict, lipsum, cycler, joiner, namespace
    env.filters = {name: env.filters[name] for name in FILTERS}
    env.tests = {name: env.tests[name] for name in ("defined", "none", "string")}
    return env


def _allowed_nodes() -> tuple[type[Any], ...]:
    from jinja2 import nodes

    return (
        nodes.Template,
        nodes.Output,
        nodes.TemplateData,
        nodes.Name,
        nodes.Const,
        nodes.Filter,
        nodes.If,
        nodes.Compare,
        nodes.Operand,
        nodes.And,
        nodes.Or,
        nodes.Not,
    )


def check(field: str, source: str) -> str:
    """``source`` when it is a safe text; ``Invalid`` on ``field`` otherwise."""
    from jinja2 import TemplateSyntaxError, nodes

    if len(source) > MAX_SOURCE:
        raise Invalid.field(field, f"at most {MAX_SOURCE} characters")
    try:
        tree = environment().parse(source)
    except TemplateSyntaxError as error:
        raise Invalid.field(field, f"not a valid template: {error.message}") from None
    allowed = _allowed_nodes()
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, allowed):
            raise Invalid.field(field, _REFUSED)
        if isinstance(node, nodes.Name) and node.name not in FIELDS:
            known = ", ".join(FIELDS)
            raise Invalid.field(field, f"unknown placeholder {node.name!r}; known: {known}")
        if isinstance(node, nodes.Filter) and (
            node.name not in FILTERS or node.args or node.kwargs or node.dyn_args
        ):
            raise Invalid.field(field, _REFUSED)
        if isinstance(node, nodes.Name) and node.ctx != "load":
            raise Invalid.field(field, _REFUSED)
    render(field, source, SAMPLE_FIELDS)
    return source


def render(field: str, source: str, values: Mapping[str, str]) -> str:
    """``source`` filled from ``values`` (the invoice's fields), at most ``MAX_OUTPUT``
    characters. ``Invalid`` on ``field`` when it cannot be rendered (not for a checked text)."""
    if "{" not in source:
        return source[:MAX_OUTPUT]
    context = {name: str(values.get(name, "")) for name in FIELDS}
    try:
        template = environment().from_string(source)
        out: list[str] = []
        size = 0
        for chunk in template.generate(context):
            out.append(chunk)
            size += len(chunk)
            if size > MAX_OUTPUT:
                break
    except Exception as error:  # a text that is code: refused, whatever it raised
        raise Invalid.field(field, f"cannot be rendered: {type(error).__name__}") from None
    return "".join(out)[:MAX_OUTPUT]
