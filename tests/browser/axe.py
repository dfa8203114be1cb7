"""axe-core in the browser tests: WCAG 2.2 AA, checked on the page as a person sees it.

axe.min.js comes from the dashboard's dev dependencies (templates/dashboard/node_modules,
never bundled into the site); it is injected into the page under test, once per document
(a hash route keeps the document, so one injection serves every screen of a session).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE_JS = (
    Path(__file__).resolve().parents[2]
    / "templates"
    / "dashboard"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)
# WCAG 2.0, 2.1 and 2.2 at levels A and AA: the acceptance (2.2 AA).
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary})),
  }));
}"""


@cache
def _source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's WCAG 2.2 AA violations of the page as it is now (axe injected if it is not yet)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_source() + "\n;undefined")
    found: list[dict[str, Any]] = page.evaluate(_RUN, WCAG_AA)
    return found


def describe(found: list[dict[str, Any]], *, limit: int = 6) -> str:
    """Violations as a person reads them in a failing assertion: the rule, its impact, and for
    each element (the first ``limit``) its selector and what failed."""
    lines = []
    for violation in found:
        lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:limit]:
            target = " ".join(" >> ".join(t) if isinstance(t, list) else t for t in node["target"])
            summary = " ".join(str(node["summary"] or "").split())
            lines.append(f"      {target}: {summary}")
        if len(violation["nodes"]) > limit:
            lines.append(f"      ... and {len(violation['nodes']) - limit} more")
    return "\n".join(lines)


# Every element the Tab key reaches, focused in turn (after one real Tab, so Chromium treats
# the focus as keyboard focus and :focus-visible applies): its outline (or, for an SVG node,
# its shape's stroke) must be drawn, at least 2px, and contrast >= 3:1 with the background it
# is drawn on (WCAG 2.4.7 focus visible, 1.4.11 non-text contrast).
_FOCUS = """() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const background = (el) => {
    for (let at = el; at; at = at.parentElement) {
      const c = parse(getComputedStyle(at).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return parse(getComputedStyle(document.documentElement).backgroundColor).slice(0, 3);
  };
  const name = (el) => {
    const bits = [el.tagName.toLowerCase()];
    if (el.id) bits.push('#' + el.id);
    for (const a of ['data-testid', 'data-route', 'aria-label', 'href', 'name']) {
      if (el.getAttribute(a)) { bits.push(`[${a}="${el.getAttribute(a).slice(0, 40)}"]`); break; }
    }
    const text = (el.textContent || '').trim().slice(0, 30);
    return bits.join('') + (text ? ` "${text}"` : '');
  };
  const selector = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), '
    + 'select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
  const failures = [];
  let checked = 0;
  for (const el of document.querySelectorAll(selector)) {
    if (!el.getClientRects().length || el.closest('[inert], [hidden]')) continue;
    if (Number(el.getAttribute('tabindex')) < 0) continue;
    el.focus();
    if (document.activeElement !== el || !el.matches(':focus-visible')) continue;
    checked += 1;
    const style = getComputedStyle(el);
    let colour, width;
    if (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) {
      colour = parse(style.outlineColor).slice(0, 3);
      width = parseFloat(style.outlineWidth);
    } else if (el instanceof SVGElement && el.querySelector('rect')) {
      const shape = getComputedStyle(el.querySelector('rect'));
      colour = parse(shape.stroke).slice(0, 3);
      width = parseFloat(shape.strokeWidth);
    } else {
      failures.push(`${name(el)}: no outline`);
      continue;
    }
    const behind = background(el.parentElement || el);
    const r = ratio(colour, behind);
    if (width < 2 || r < 3) {
      failures.push(`${name(el)}: ${width}px, ${r.toFixed(2)}:1 against rgb(${behind})`);
    }
  }
  document.activeElement?.blur();
  // Back where the page started: a later check sees the screen as it opens.
  window.scrollTo(0, 0);
  return {checked, failures};
}"""


def focus_problems(page: Any) -> tuple[int, list[str]]:
    """(how many elements were focused, those whose focus is not visible enough)."""
    page.keyboard.press("Tab")
    found = page.evaluate(_FOCUS)
    return int(found["checked"]), list(found["failures"])
