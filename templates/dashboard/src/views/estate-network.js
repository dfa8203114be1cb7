// #/estate/network: the region's network from the inventory's cache (GET /api/estate/network):
// per VPC a topology diagram (VPC -> subnets -> gateways, laid out by dagre, loaded only here)
// and, at phone width, the same as a nested list; security groups with risky rules flagged,
// public addresses, the network's cost and its savings. Read-only: Tally changes no network.

import { emptyState, errorState, h, openDialog, replace, skeleton } from "../dom.js";
import { money } from "../format.js";
import { KIND_LABEL, networkTree, nodeSize, riskyRule, ruleText, topologyGraph } from "../estate.js";
import { estateHead, flagList } from "./estate.js";

// The diagram needs room: below this width the list is shown instead (the diagram is not
// drawn at all, so nothing scrolls sideways on a phone).
const PHONE = "(max-width: 599px)";

const COST_LABEL = {
  natGatewayHours: "NAT gateway hours",
  natGatewayDataProcessed: "NAT gateway data processed",
  publicIpv4: "Public IPv4 addresses",
  endpoints: "VPC endpoints",
  dataTransfer: "Data transfer",
};

let measuring = null;

/** The VPCs people made first, the default VPC last. */
function sortedVpcs(vpcs) {
  return [...vpcs].sort((a, b) => Number(a.isDefault) - Number(b.isDefault) || a.vpcId.localeCompare(b.vpcId));
}

/** Text widths with the diagram's own fonts (a canvas measures them; no layout needed). */
function measurer() {
  if (!measuring) {
    const context = document.createElement("canvas").getContext("2d");
    const family = getComputedStyle(document.documentElement).getPropertyValue("--font").trim() || "sans-serif";
    measuring = (text, role) => {
      context.font = role === "label" ? `600 14px ${family}` : `12px ${family}`;
      // A few pixels for the warning sign and rounding between canvas and SVG text.
      return context.measureText(text || "").width + (role === "label" ? 22 : 4);
    };
  }
  return measuring;
}

export function networkView(view, tabs) {
  const { ctx, container, signal } = view;
  const head = h("div", {});
  const body = h("div", { class: "estate-body", "aria-live": "polite" }, skeleton(8, "Loading the network"));
  replace(container, head, body);
  replace(
    head,
    estateHead("AWS estate", "The region's network: VPCs, subnets, gateways and security groups.", tabs, null),
  );
  container.setAttribute("aria-busy", "true");
  const phone = window.matchMedia(PHONE);

  async function load() {
    container.setAttribute("aria-busy", "true");
    try {
      const network = await ctx.api.estateNetwork();
      if (signal.aborted) return;
      replace(
        head,
        estateHead(
          "AWS estate",
          `The network of ${network.region}: VPCs, subnets, gateways, security groups, and what it costs.`,
          tabs,
          network.readAt,
        ),
      );
      await show(network);
    } catch (error) {
      if (!signal.aborted) replace(body, errorState(error, load, "the network"));
    } finally {
      container.removeAttribute("aria-busy");
    }
  }

  async function show(network) {
    if (!network.vpcs.length) {
      replace(body, emptyState("No VPC in this region.", "The inventory found no VPC here."));
      return;
    }
    const findingsByResource = new Map();
    for (const f of network.findings)
      findingsByResource.set(f.resource, [...(findingsByResource.get(f.resource) || []), f]);
    const flagged = new Set([...network.savings.map((s) => s.resource), ...findingsByResource.keys()]);
    const topology = h("div", { class: "topologies" });
    replace(
      body,
      flagList(network.findings),
      h(
        "section",
        { class: "card", "aria-labelledby": "topology-title" },
        h(
          "div",
          { class: "card-head" },
          h("h2", { id: "topology-title" }, "Topology"),
          h("p", { class: "card-subtitle" }, "Each item opens its details (Tab to it, then Enter)."),
        ),
        topology,
      ),
      costCard(network),
      securityGroupsCard(network, findingsByResource),
      addressesCard(network),
    );
    await drawTopology(topology, network, flagged);
    const redraw = () => drawTopology(topology, network, flagged);
    phone.addEventListener("change", redraw);
    signal.addEventListener("abort", () => phone.removeEventListener("change", redraw));
  }

  function details(network, node) {
    openDialog({
      // "NAT gateway nat-0ab…" rather than "NAT gateway: NAT gateway".
      title:
        node.label === KIND_LABEL[node.kind] ? `${node.label} ${node.id}` : `${KIND_LABEL[node.kind]}: ${node.label}`,
      className: "dialog-node",
      build: (close) =>
        h(
          "div",
          { dataset: { testid: "node-details" } },
          nodeFacts(network, node),
          h(
            "div",
            { class: "dialog-actions" },
            h("button", { type: "button", class: "button primary", onclick: () => close() }, "Close"),
          ),
        ),
    });
  }

  async function drawTopology(slot, network, flagged) {
    if (phone.matches) {
      replace(
        slot,
        topologyList(network, flagged, (node) => details(network, node)),
      );
      return;
    }
    replace(slot, skeleton(4, "Laying out the diagram"));
    // The layout library is a chunk of its own: only this screen, and only this width, loads it.
    const { renderTopology } = await import("../topology.js");
    if (signal.aborted) return;
    replace(
      slot,
      sortedVpcs(network.vpcs).map((vpc) => {
        const graph = topologyGraph(network, vpc.vpcId);
        const title = `${vpc.tags?.Name || vpc.vpcId} (${vpc.cidr})`;
        return h(
          "figure",
          { class: "topology-figure" },
          h("figcaption", {}, title, vpc.isDefault ? h("span", { class: "tag tag-quiet" }, "default VPC") : null),
          h(
            "div",
            { class: "topology-scroll" },
            renderTopology(graph, {
              title: `Topology of ${title}`,
              flagged,
              sizeOf: (node) => nodeSize(node, { measure: measurer() }),
              kindLabel: KIND_LABEL,
              onOpen: (node) => details(network, node),
            }),
          ),
        );
      }),
    );
  }

  return load();
}

function topologyList(network, flagged, onOpen) {
  const nodeButton = (node) =>
    h(
      "button",
      { type: "button", class: "linkish", dataset: { node: node.id }, onclick: () => onOpen(node) },
      flagged.has(node.id) ? "⚠ " : "",
      node.label,
    );
  return h(
    "ul",
    { class: "topology-list", dataset: { testid: "topology-list" } },
    networkTree(network).map((v) =>
      h(
        "li",
        {},
        h(
          "p",
          { class: "tree-vpc" },
          nodeButton({ id: v.vpc.vpcId, kind: "vpc", label: `${v.label} (${v.vpc.cidr})`, detail: v.vpc.vpcId }),
        ),
        h(
          "ul",
          {},
          v.subnets.map((s) =>
            h(
              "li",
              {},
              nodeButton({
                id: s.subnet.subnetId,
                kind: "subnet",
                label: s.label,
                detail: `${s.subnet.subnetId} · ${s.subnet.availabilityZone}`,
              }),
              s.routes.length
                ? h(
                    "ul",
                    {},
                    s.routes.map((r) =>
                      h(
                        "li",
                        { class: "muted" },
                        `${r.destination} → ${r.kind ? KIND_LABEL[r.kind] : "target"} ${r.target}`,
                      ),
                    ),
                  )
                : null,
            ),
          ),
          v.gateways.map((g) => h("li", { class: "tree-gateway" }, nodeButton(g))),
        ),
      ),
    ),
  );
}

function facts(rows) {
  return h(
    "dl",
    { class: "facts" },
    rows
      .filter(([, v]) => v !== null && v !== undefined && v !== "")
      .flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
}

function nodeFacts(network, node) {
  const id = node.id;
  if (node.kind === "vpc") {
    const vpc = network.vpcs.find((v) => v.vpcId === id);
    const groups = network.securityGroups.filter((g) => g.vpcId === id).length;
    return facts([
      ["VPC", id],
      ["CIDR", vpc?.cidr],
      ["Default", vpc?.isDefault ? "yes" : "no"],
      ["State", vpc?.state],
      ["Subnets", String(network.subnets.filter((s) => s.vpcId === id).length)],
      ["Security groups", String(groups)],
    ]);
  }
  if (node.kind === "subnet") {
    const s = network.subnets.find((x) => x.subnetId === id);
    const table = network.routeTables.find((t) => t.routeTableId === s?.routeTableId);
    return [
      facts([
        ["Subnet", id],
        ["CIDR", s?.cidr],
        ["Zone", s?.availabilityZone],
        ["Public", s?.public ? "yes: its route table routes to an internet gateway" : "no"],
        ["Route table", s?.routeTableId],
      ]),
      table
        ? h(
            "ul",
            { class: "plain-list" },
            table.routes.map((r) => h("li", {}, `${r.destination} → ${r.target}`)),
          )
        : null,
    ];
  }
  const saving = network.savings.filter((s) => s.resource === id);
  const base = facts([
    ["Kind", KIND_LABEL[node.kind]],
    ["Id", id],
    ["Details", node.detail],
  ]);
  return [
    base,
    saving.length
      ? h(
          "ul",
          { class: "flags" },
          saving.map((s) =>
            h(
              "li",
              { class: "flag flag-medium" },
              `Saving: ${s.message}${s.monthlySaving ? ` (${money(s.monthlySaving)} a month)` : ""}`,
            ),
          ),
        )
      : null,
  ];
}

function costCard(network) {
  const rows = Object.entries(COST_LABEL).map(([key, label]) => {
    const c = network.cost[key];
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, label),
      h("td", { class: "num", "data-label": "Last 30 days" }, money(c.last30Days)),
      h("td", { class: "num", "data-label": "This month" }, money(c.monthToDate)),
    );
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "network-cost-title", dataset: { testid: "network-cost" } },
    h("div", { class: "card-head" }, h("h2", { id: "network-cost-title" }, "Cost and savings")),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "stack" },
        h("caption", { class: "visually-hidden" }, "The network's cost"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Cost"),
            h("th", { scope: "col", class: "num" }, "Last 30 days"),
            h("th", { scope: "col", class: "num" }, "This month"),
          ),
        ),
        h("tbody", {}, rows),
      ),
    ),
    network.savings.length
      ? h(
          "ul",
          { class: "savings-list", dataset: { testid: "network-savings" } },
          network.savings.map((s) =>
            h(
              "li",
              { dataset: { code: s.code } },
              h("strong", {}, s.resource),
              `: ${s.message}`,
              s.monthlySaving ? ` (saves ${money(s.monthlySaving)} a month)` : "",
            ),
          ),
        )
      : h("p", { class: "muted" }, "No savings found."),
  );
}

function securityGroupsCard(network, findingsByResource) {
  const rows = network.securityGroups.map((g) => {
    const risky = g.inbound.filter(riskyRule);
    return h(
      "tr",
      {
        dataset: { group: g.groupId },
        class: risky.length || findingsByResource.has(g.groupId) ? "row-flagged" : null,
      },
      h("th", { scope: "row" }, g.name, h("span", { class: "muted" }, ` ${g.groupId}`)),
      h("td", { "data-label": "VPC" }, g.vpcId || "—"),
      h(
        "td",
        { "data-label": "Inbound" },
        g.inbound.length
          ? h(
              "ul",
              { class: "plain-list" },
              g.inbound.map((r) =>
                h(
                  "li",
                  { class: riskyRule(r) ? "risky" : null },
                  riskyRule(r)
                    ? h(
                        "span",
                        { class: "flag flag-high inline", dataset: { code: "network.open-to-world" } },
                        "open to the world",
                      )
                    : null,
                  ruleText(r),
                ),
              ),
            )
          : h("span", { class: "muted" }, "none"),
      ),
    );
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "sg-title", dataset: { testid: "security-groups" } },
    h("div", { class: "card-head" }, h("h2", { id: "sg-title" }, "Security groups")),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "stack" },
        h("caption", { class: "visually-hidden" }, "Security groups and their inbound rules"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Group", "VPC", "Inbound rules"].map((c) => h("th", { scope: "col" }, c)),
          ),
        ),
        h("tbody", {}, rows),
      ),
    ),
  );
}

function addressesCard(network) {
  return h(
    "section",
    { class: "card", "aria-labelledby": "ip-title", dataset: { testid: "addresses" } },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: "ip-title" }, "Public IPv4 addresses"),
      h("p", { class: "card-subtitle" }, `${network.addresses.length} in use or allocated`),
    ),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "stack" },
        h("caption", { class: "visually-hidden" }, "Public IPv4 and Elastic IP addresses"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Address", "Kind", "Attached to"].map((c) => h("th", { scope: "col" }, c)),
          ),
        ),
        h(
          "tbody",
          {},
          network.addresses.map((a) =>
            h(
              "tr",
              { class: a.elastic && !a.attached ? "row-flagged" : null },
              h("th", { scope: "row" }, a.publicIp),
              h("td", { "data-label": "Kind" }, a.elastic ? "Elastic IP" : "Public IPv4"),
              h(
                "td",
                { "data-label": "Attached to" },
                a.attached
                  ? a.networkInterfaceId || "yes"
                  : h("span", { class: "flag flag-medium inline" }, "unattached"),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}
