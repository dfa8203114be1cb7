// Pure helpers of the estate screens (issue 15): flags from the API's findings, the network as
// a graph (the topology) and as a nested list (phone width), security rules in words, and the
// range of a chart. No DOM here, so Node's test runner checks them (test/estate.test.js).

import { daysFrom, parseDay } from "./calendar.js";

/** What a finding code reads as on a flag (the API's message says the details). */
export const FINDING_LABEL = {
  "lambda.erroring": "Erroring",
  "lambda.idle": "Idle",
  "lambda.runtime-deprecated": "Runtime past end of support",
  "lambda.runtime-ending": "Runtime support ends soon",
  "iam.console-without-mfa": "Console without MFA",
  "iam.password-unused": "Password unused 45+ days",
  "iam.access-key-unused": "Key unused 45+ days",
  "iam.access-key-not-rotated": "Key older than 90 days",
  "network.open-to-world": "Open to the world",
};

/** [{code, severity, message}] -> [{code, label, severity, message}], the most severe first. */
export function flags(findings) {
  const rank = { high: 0, medium: 1, low: 2 };
  return [...(findings || [])]
    .sort((a, b) => (rank[a.severity] ?? 3) - (rank[b.severity] ?? 3) || a.code.localeCompare(b.code))
    .map((f) => ({ ...f, label: FINDING_LABEL[f.code] || f.code }));
}

/** The runtime's findings (end of support) apart from the function's behaviour (erroring, idle). */
export function runtimeFlag(findings) {
  return flags(findings).find((f) => f.code.startsWith("lambda.runtime-")) || null;
}

/** "7.0" -> {text: "+7%", direction: "up"}; null -> {text: "—", direction: "none"}. */
export function trend(trendPct) {
  if (trendPct === null || trendPct === undefined || trendPct === "") return { text: "—", direction: "none" };
  const value = Number(trendPct);
  const rounded = Math.round(Math.abs(value));
  if (rounded === 0) return { text: "±0%", direction: "flat" };
  return value > 0 ? { text: `+${rounded}%`, direction: "up" } : { text: `−${rounded}%`, direction: "down" };
}

/** Whole days from `iso` to `today` ("YYYY-MM-DD"), or null without a date. */
export function daysSince(iso, today) {
  if (!iso || !today) return null;
  return daysFrom(iso.slice(0, 10), today.slice(0, 10));
}

/** "today", "yesterday", "12 days ago", "never". */
export function agoText(iso, today) {
  if (!iso) return "never";
  const days = daysSince(iso, today);
  if (days === null) return "—";
  if (days <= 0) return "today";
  if (days === 1) return "yesterday";
  return `${days} days ago`;
}

/** The last `days` of a daily series ([{day, cost}], oldest first). */
export function lastDays(daily, days) {
  const items = daily || [];
  return days >= items.length ? items : items.slice(items.length - days);
}

/** A reserved concurrency as a person reads it (0 pauses a function). */
export function reservedText(value) {
  if (value === null || value === undefined) return "unreserved";
  if (value === 0) return "0 (paused)";
  return String(value);
}

// Ports whose exposure to the whole internet is a finding (the API flags them too).
const RISKY_PORTS = new Map([
  [22, "SSH"],
  [3389, "RDP"],
  [3306, "MySQL"],
  [5432, "PostgreSQL"],
  [1433, "SQL Server"],
  [1521, "Oracle"],
  [27017, "MongoDB"],
  [6379, "Redis"],
]);
const WORLD = new Set(["0.0.0.0/0", "::/0"]);

function port(rule, camel, snake) {
  const value = rule[camel] ?? rule[snake];
  return value === undefined ? null : value;
}

/** A rule as a person reads it: "tcp 22 from 0.0.0.0/0", "all traffic from sg-1". */
export function ruleText(rule) {
  const from = port(rule, "fromPort", "from_port");
  const to = port(rule, "toPort", "to_port");
  const protocol = rule.protocol === "-1" ? "all traffic" : rule.protocol;
  let ports = "";
  if (rule.protocol !== "-1" && from !== null) ports = from === to || to === null ? ` ${from}` : ` ${from}–${to}`;
  const sources = [...(rule.cidrs || []), ...(rule.sourceGroups || rule.source_groups || [])];
  return `${protocol}${ports} from ${sources.join(", ") || "nowhere"}`;
}

/** Whether an inbound rule opens a risky port (or everything) to the whole internet. */
export function riskyRule(rule) {
  if (!(rule.cidrs || []).some((c) => WORLD.has(c))) return false;
  if (rule.protocol === "-1") return true;
  const from = port(rule, "fromPort", "from_port");
  const to = port(rule, "toPort", "to_port") ?? from;
  if (from === null) return true;
  return [...RISKY_PORTS.keys()].some((p) => p >= from && p <= to);
}

function nameOf(tags, fallback) {
  return (tags && tags.Name) || fallback;
}

function gatewayKind(target) {
  if (target.startsWith("igw-")) return "igw";
  if (target.startsWith("nat-")) return "nat";
  if (target.startsWith("vpce-")) return "endpoint";
  if (target.startsWith("pcx-")) return "peering";
  return null;
}

export const KIND_LABEL = {
  vpc: "VPC",
  subnet: "Subnet",
  igw: "Internet gateway",
  nat: "NAT gateway",
  endpoint: "VPC endpoint",
  peering: "Peering",
};

/**
 * One VPC of the network (GET /api/estate/network) as a graph for the topology:
 * nodes [{id, kind, label, detail}] and edges [{from, to}]: VPC -> each subnet -> the gateways
 * its route table routes to; a NAT gateway also hangs from the subnet it sits in. Gateways of
 * the VPC that no route uses hang from the VPC, so nothing is left out.
 */
export function topologyGraph(network, vpcId) {
  const vpc = (network.vpcs || []).find((v) => v.vpcId === vpcId);
  if (!vpc) return { nodes: [], edges: [] };
  const nodes = new Map();
  const edges = [];
  const seen = new Set();
  const add = (id, kind, label, detail) => {
    if (!nodes.has(id)) nodes.set(id, { id, kind, label, detail });
  };
  const link = (from, to) => {
    const key = `${from}>${to}`;
    if (from !== to && !seen.has(key)) {
      seen.add(key);
      edges.push({ from, to });
    }
  };
  add(vpc.vpcId, "vpc", nameOf(vpc.tags, vpc.vpcId), `${vpc.cidr}${vpc.isDefault ? " · default" : ""}`);
  const tables = new Map((network.routeTables || []).map((t) => [t.routeTableId, t]));
  const gateways = gatewaysOf(network, vpcId);
  for (const g of gateways) add(g.id, g.kind, g.label, g.detail);
  const used = new Set();
  const subnets = (network.subnets || [])
    .filter((s) => s.vpcId === vpcId)
    .sort((a, b) => Number(b.public) - Number(a.public) || a.cidr.localeCompare(b.cidr, "en", { numeric: true }));
  for (const s of subnets) {
    add(
      s.subnetId,
      "subnet",
      `${s.public ? "Public" : "Private"} ${s.cidr}`,
      `${nameOf(s.tags, s.subnetId)} · ${s.availabilityZone}`,
    );
    link(vpc.vpcId, s.subnetId);
    const table = tables.get(s.routeTableId);
    for (const route of table?.routes || []) {
      if (nodes.has(route.target) && gatewayKind(route.target)) {
        link(s.subnetId, route.target);
        used.add(route.target);
      }
    }
  }
  for (const nat of network.natGateways || []) {
    if (nat.vpcId === vpcId && nodes.has(nat.subnetId)) {
      link(nat.subnetId, nat.gatewayId);
      used.add(nat.gatewayId);
    }
  }
  for (const g of gateways) if (!used.has(g.id)) link(vpc.vpcId, g.id);
  return { nodes: [...nodes.values()], edges };
}

/** The gateways of one VPC: internet, NAT, endpoints, peerings ([{id, kind, label, detail}]). */
export function gatewaysOf(network, vpcId) {
  const out = [];
  for (const g of network.internetGateways || []) {
    if ((g.vpcIds || []).includes(vpcId))
      out.push({ id: g.gatewayId, kind: "igw", label: "Internet gateway", detail: g.gatewayId });
  }
  for (const g of network.natGateways || []) {
    if (g.vpcId === vpcId) {
      const ips = (g.publicIps || []).join(", ");
      out.push({
        id: g.gatewayId,
        kind: "nat",
        label: "NAT gateway",
        detail: `${g.gatewayId}${ips ? ` · ${ips}` : ""} · ${g.state}`,
      });
    }
  }
  for (const e of network.endpoints || []) {
    if (e.vpcId === vpcId) {
      const service = (e.serviceName || "").split(".").pop();
      out.push({
        id: e.endpointId,
        kind: "endpoint",
        label: `${e.endpointType} endpoint: ${service}`,
        detail: e.endpointId,
      });
    }
  }
  for (const p of network.peerings || []) {
    if (p.requesterVpcId === vpcId || p.accepterVpcId === vpcId) {
      const other = p.requesterVpcId === vpcId ? p.accepterVpcId : p.requesterVpcId;
      out.push({
        id: p.peeringId,
        kind: "peering",
        label: `Peering to ${other}`,
        detail: `${p.peeringId} · ${p.status}`,
      });
    }
  }
  return out;
}

/**
 * The network as a nested list (what phone width shows instead of the diagram):
 * [{vpc, label, subnets: [{subnet, label, routes: [{destination, target, kind}]}], gateways}].
 */
export function networkTree(network) {
  const tables = new Map((network.routeTables || []).map((t) => [t.routeTableId, t]));
  // The VPCs people made first, the default VPC last (as the diagrams).
  const vpcs = [...(network.vpcs || [])].sort(
    (a, b) => Number(a.isDefault) - Number(b.isDefault) || a.vpcId.localeCompare(b.vpcId),
  );
  return vpcs.map((vpc) => ({
    vpc,
    label: nameOf(vpc.tags, vpc.vpcId),
    gateways: gatewaysOf(network, vpc.vpcId),
    subnets: (network.subnets || [])
      .filter((s) => s.vpcId === vpc.vpcId)
      .sort((a, b) => Number(b.public) - Number(a.public) || a.cidr.localeCompare(b.cidr, "en", { numeric: true }))
      .map((s) => ({
        subnet: s,
        label: `${s.public ? "Public" : "Private"} ${s.cidr}`,
        routeTableId: s.routeTableId,
        routes: (tables.get(s.routeTableId)?.routes || [])
          .filter((r) => r.target !== "local")
          .map((r) => ({ ...r, kind: gatewayKind(r.target) })),
      })),
  }));
}

/**
 * A node's box for its text, so labels never overlap or spill: `measure(text, "label" |
 * "detail")` gives a text's width in pixels (the browser measures with the diagram's fonts);
 * without it, a generous estimate per character.
 */
export function nodeSize(node, { measure = estimateWidth, padding = 24, minWidth = 120, height = 52 } = {}) {
  const widest = Math.max(measure(node.label, "label"), measure(node.detail || "", "detail"));
  return { width: Math.max(minWidth, Math.ceil(widest + padding)), height };
}

/** About the widest a text can be at the diagram's sizes (bold 14 px labels, 12 px details). */
export function estimateWidth(text, role) {
  return (text || "").length * (role === "label" ? 9 : 7.5);
}

/** Whether any two laid-out boxes ([{x, y, width, height}] centred) overlap. */
export function overlaps(boxes) {
  for (let i = 0; i < boxes.length; i += 1) {
    for (let j = i + 1; j < boxes.length; j += 1) {
      const a = boxes[i];
      const b = boxes[j];
      if (Math.abs(a.x - b.x) * 2 < a.width + b.width && Math.abs(a.y - b.y) * 2 < a.height + b.height) return true;
    }
  }
  return false;
}

/** The chart's range for GET /api/estate/metrics: the `days` whole days before the API's
 * business date (`today`, "YYYY-MM-DD"), never reaching past its start (the API refuses an end
 * in the future, and today is not complete). */
export function metricRange(today, days) {
  const end = parseDay(today).getTime();
  const start = end - days * 86_400_000;
  const iso = (ms) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
  const list = Array.from({ length: days }, (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10));
  return { start: iso(start), end: iso(end), days: list };
}

/** A series' points ([{at, value}]) summed per UTC day over `days` (["YYYY-MM-DD"]): a day
 * without datapoints is 0 for a count. */
export function dailySums(points, days) {
  const sums = new Map(days.map((d) => [d, 0]));
  for (const p of points || []) {
    const day = String(p.at).slice(0, 10);
    if (sums.has(day)) sums.set(day, sums.get(day) + p.value);
  }
  return days.map((d) => Math.round(sums.get(d) * 1000) / 1000);
}

/** The mean of a series' values (e.g. a duration percentile over the range), or null. */
export function meanOf(points) {
  if (!points || !points.length) return null;
  return points.reduce((sum, p) => sum + p.value, 0) / points.length;
}
