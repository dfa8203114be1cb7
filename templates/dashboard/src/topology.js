// The network screen's topology diagram: one VPC's graph (estate.js topologyGraph) laid out by
// dagre (left to right: VPC -> subnets -> gateways) and drawn as SVG. Loaded with `import()` by
// the network screen only, so the layout library is a chunk of its own (build.mjs splits it)
// and no other page downloads it. Each node is a focusable button-like group: Tab reaches it,
// Enter or Space opens its details; its aria-label says what it is.

// Nothing from the app's own modules is imported here: a module both use would become a third
// file that the first page load has to fetch. The caller hands in what this needs.
import { layout, graphlib } from "@dagrejs/dagre";

const SVG = "http://www.w3.org/2000/svg";
const MARGIN = 16;

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/** Positions of `graph`'s nodes ({id: {x, y, width, height}}) and edges ([{from, to, points}]). */
export function layoutGraph(graph, sizeOf) {
  const g = new graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 70, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) g.setNode(node.id, { ...sizeOf(node) });
  for (const edge of graph.edges) g.setEdge(edge.from, edge.to);
  layout(g);
  const nodes = {};
  for (const node of graph.nodes) {
    const { x, y, width, height } = g.node(node.id);
    nodes[node.id] = { x, y, width, height };
  }
  const edges = graph.edges.map((e) => ({ ...e, points: g.edge(e.from, e.to).points }));
  const { width, height } = g.graph();
  return { nodes, edges, width, height };
}

/**
 * The diagram as an <svg>: `onOpen(node)` is called when a node is activated (click, Enter,
 * Space). `flagged` is a Set of node ids drawn with a warning (e.g. an idle NAT gateway);
 * `sizeOf(node)` gives a box's {width, height} for its text, `kindLabel` names each kind.
 */
export function renderTopology(graph, { title, onOpen, sizeOf, kindLabel, flagged = new Set() }) {
  const placed = layoutGraph(graph, sizeOf);
  const titleId = `topology-title-${Math.random().toString(36).slice(2, 8)}`;
  const root = svg(
    "svg",
    {
      class: "topology",
      viewBox: `0 0 ${Math.ceil(placed.width)} ${Math.ceil(placed.height)}`,
      width: Math.ceil(placed.width),
      height: Math.ceil(placed.height),
      role: "group",
      "aria-labelledby": titleId,
      "data-testid": "topology",
    },
    svg("title", { id: titleId }, title),
    svg(
      "defs",
      {},
      svg(
        "marker",
        {
          id: `${titleId}-arrow`,
          viewBox: "0 0 10 10",
          refX: 10,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: "auto",
        },
        svg("path", { d: "M0,0 L10,5 L0,10 z", class: "topology-arrow" }),
      ),
    ),
  );
  const edgeLayer = svg("g", { class: "topology-edges", "aria-hidden": "true" });
  for (const edge of placed.edges) {
    const d = edge.points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
    edgeLayer.append(svg("path", { d, class: "topology-edge", "marker-end": `url(#${titleId}-arrow)` }));
  }
  root.append(edgeLayer);
  for (const node of graph.nodes) {
    const box = placed.nodes[node.id];
    const left = box.x - box.width / 2;
    const top = box.y - box.height / 2;
    const warn = flagged.has(node.id);
    const label = `${kindLabel[node.kind]}: ${node.label}. ${node.detail || ""}${warn ? ". Has a finding" : ""}`;
    const group = svg(
      "g",
      {
        class: `topology-node kind-${node.kind}${warn ? " flagged" : ""}`,
        tabindex: 0,
        role: "button",
        "aria-label": label,
        "data-node": node.id,
        "data-kind": node.kind,
      },
      svg("rect", { x: left, y: top, width: box.width, height: box.height, rx: 8 }),
      svg("text", { x: left + 12, y: top + 21, class: "topology-label" }, `${warn ? "⚠ " : ""}${node.label}`),
      // The leading space (not drawn: SVG text collapses it) keeps the two lines two words in
      // the group's text, so its name contains what it shows (WCAG 2.5.3, label in name).
      svg("text", { x: left + 12, y: top + 39, class: "topology-detail" }, ` ${node.detail || ""}`),
    );
    const open = () => onOpen(node);
    group.addEventListener("click", open);
    group.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        open();
      }
    });
    root.append(group);
  }
  return root;
}
