// Contrast of the theme's colours (styles.css), in light and dark, by WCAG 2.2's formula:
// chart colours against the card they are drawn on (>= 3:1, 1.4.11 non-text contrast), the
// status badges' words against their fill (>= 4.5:1, 1.4.3), and the focus ring against every
// background it can sit on (>= 3:1, 1.4.11 / 2.4.13's spirit). axe checks text in the page but
// cannot see a canvas's pixels, hence this test of the palette itself.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const CSS = readFileSync(new URL("../src/styles.css", import.meta.url), "utf8");

/** The custom properties of every top-level `:root` block, and of every `:root` inside a
 * `prefers-color-scheme: dark` block, later declarations winning (as in the browser). */
function themes(css) {
  const light = {};
  const dark = {};
  const declarations = (body, into) => {
    for (const [, name, value] of body.matchAll(/(--[\w-]+)\s*:\s*([^;]+);/g)) into[name] = value.trim();
  };
  const withoutDark = css.replace(
    /@media \(prefers-color-scheme: dark\)\s*\{\s*:root\s*\{([^}]*)\}\s*\}/g,
    (_, body) => {
      declarations(body, dark);
      return "";
    },
  );
  for (const [, body] of withoutDark.matchAll(/^:root\s*\{([^}]*)\}/gm)) declarations(body, light);
  return { light, dark: { ...light, ...dark } };
}

function resolve(vars, value) {
  const seen = new Set();
  let current = value;
  while (current.startsWith("var(")) {
    const name = current.slice(4, -1).trim();
    assert.ok(!seen.has(name) && name in vars, `unknown or circular ${name}`);
    seen.add(name);
    current = vars[name];
  }
  return current;
}

function rgb(hex) {
  const match = /^#([0-9a-f]{6})$/i.exec(hex);
  assert.ok(match, `not an opaque #rrggbb colour: ${hex}`);
  return [0, 2, 4].map((i) => parseInt(match[1].slice(i, i + 2), 16) / 255);
}

function luminance(hex) {
  const [r, g, b] = rgb(hex).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG's contrast ratio of two opaque colours. */
function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const THEMES = themes(CSS);

function check(pairs, minimum) {
  const failures = [];
  for (const [theme, vars] of Object.entries(THEMES)) {
    for (const [fg, bg] of pairs) {
      const ratio = contrast(resolve(vars, `var(${fg})`), resolve(vars, `var(${bg})`));
      if (ratio < minimum) failures.push(`${theme}: ${fg} on ${bg} is ${ratio.toFixed(2)}:1`);
    }
  }
  assert.deepEqual(failures, [], `below ${minimum}:1`);
}

test("the formula gives WCAG's known ratios", () => {
  assert.equal(contrast("#000000", "#ffffff").toFixed(1), "21.0");
  assert.equal(contrast("#777777", "#ffffff").toFixed(2), "4.48");
  assert.equal(contrast("#ffffff", "#ffffff"), 1);
});

test("both themes define the same colours", () => {
  assert.ok(Object.keys(THEMES.light).length > 40);
  for (const name of ["--surface", "--series-1", "--series-8", "--focus", "--ok", "--ok-soft"]) {
    assert.notEqual(THEMES.light[name], THEMES.dark[name], name);
  }
});

// The lines, bars and doughnut segments of every chart, on a card (--surface). The translucent
// fills (--chart-band, the forecast's interval; --chart-cost-bar) are not the objects' only
// outline: the forecast line and the bars' --series-2 border are, and they are checked here.
const CHART_COLOURS = [
  ...Array.from({ length: 8 }, (_, i) => `--series-${i + 1}`),
  "--chart-actual",
  "--chart-forecast",
  "--chart-pace",
  // The axis ticks and legend words (Chart.defaults.color) are text.
];

test("chart colours stand out from the card (>= 3:1) in both themes", () => {
  check(
    CHART_COLOURS.map((colour) => [colour, "--surface"]),
    3,
  );
});

test("chart tick and legend words read on the card (>= 4.5:1)", () => {
  check([["--text-muted", "--surface"]], 4.5);
});

// Words on a badge's fill: the budget status (.status-*), its icon (the fill's colour on the
// status colour), the role, payment and recompute badges, the bell's count.
const BADGES = [
  ["--ok", "--ok-soft"],
  ["--warn", "--warn-soft"],
  ["--over", "--over-soft"],
  ["--text-muted", "--surface-2"],
  ["--ok-soft", "--ok"],
  ["--warn-soft", "--warn"],
  ["--over-soft", "--over"],
  ["--surface-2", "--text-muted"],
  ["--accent", "--accent-soft"],
  ["--text", "--ok-soft"],
  ["--text", "--danger-soft"],
  ["--surface", "--danger"],
  ["--danger", "--danger-soft"],
  ["--accent-text", "--accent"],
];

test("status badges' words read on their fill (>= 4.5:1) in both themes", () => {
  check(BADGES, 4.5);
});

test("the focus ring stands out from every background (>= 3:1) in both themes", () => {
  check(
    [
      ["--focus", "--bg"],
      ["--focus", "--surface"],
      ["--focus", "--surface-2"],
      ["--focus", "--accent-soft"],
    ],
    3,
  );
});
