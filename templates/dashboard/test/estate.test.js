import assert from "node:assert/strict";
import { test } from "node:test";

import {
  agoText,
  dailySums,
  meanOf,
  metricRange,
  flags,
  lastDays,
  networkTree,
  nodeSize,
  overlaps,
  reservedText,
  riskyRule,
  ruleText,
  runtimeFlag,
  topologyGraph,
  trend,
} from "../src/estate.js";
import { actionPermission } from "../src/estate-actions.js";

// The demo estate's shape, as GET /api/estate/network answers it (ids shortened).
const NETWORK = {
  vpcs: [
    { vpcId: "vpc-demo", cidr: "10.20.0.0/16", isDefault: false, tags: { Name: "tally-demo" } },
    { vpcId: "vpc-default", cidr: "172.31.0.0/16", isDefault: true, tags: {} },
  ],
  subnets: [
    {
      subnetId: "subnet-priv",
      vpcId: "vpc-demo",
      cidr: "10.20.1.0/24",
      availabilityZone: "a",
      public: false,
      routeTableId: "rtb-priv",
      tags: {},
    },
    {
      subnetId: "subnet-pub",
      vpcId: "vpc-demo",
      cidr: "10.20.0.0/24",
      availabilityZone: "e",
      public: true,
      routeTableId: "rtb-pub",
      tags: {},
    },
    {
      subnetId: "subnet-d1",
      vpcId: "vpc-default",
      cidr: "172.31.16.0/20",
      availabilityZone: "b",
      public: false,
      routeTableId: "rtb-d",
      tags: {},
    },
  ],
  routeTables: [
    {
      routeTableId: "rtb-priv",
      vpcId: "vpc-demo",
      routes: [
        { destination: "10.20.0.0/16", target: "local" },
        { destination: "0.0.0.0/0", target: "nat-1" },
        { destination: "pl-s3", target: "vpce-s3" },
      ],
    },
    {
      routeTableId: "rtb-pub",
      vpcId: "vpc-demo",
      routes: [
        { destination: "10.20.0.0/16", target: "local" },
        { destination: "0.0.0.0/0", target: "igw-1" },
      ],
    },
    { routeTableId: "rtb-d", vpcId: "vpc-default", routes: [{ destination: "172.31.0.0/16", target: "local" }] },
  ],
  internetGateways: [{ gatewayId: "igw-1", vpcIds: ["vpc-demo"] }],
  natGateways: [
    { gatewayId: "nat-1", vpcId: "vpc-demo", subnetId: "subnet-pub", state: "available", publicIps: ["1.2.3.4"] },
  ],
  endpoints: [
    { endpointId: "vpce-s3", vpcId: "vpc-demo", serviceName: "com.amazonaws.us-east-1.s3", endpointType: "Gateway" },
  ],
  peerings: [{ peeringId: "pcx-1", requesterVpcId: "vpc-demo", accepterVpcId: "vpc-default", status: "active" }],
};

test("the topology links VPC -> subnets -> the gateways their routes use", () => {
  const graph = topologyGraph(NETWORK, "vpc-demo");
  const ids = graph.nodes.map((n) => `${n.kind}:${n.id}`).sort();
  assert.deepEqual(ids, [
    "endpoint:vpce-s3",
    "igw:igw-1",
    "nat:nat-1",
    "peering:pcx-1",
    "subnet:subnet-priv",
    "subnet:subnet-pub",
    "vpc:vpc-demo",
  ]);
  const edges = graph.edges.map((e) => `${e.from}>${e.to}`).sort();
  assert.deepEqual(edges, [
    "subnet-priv>nat-1",
    "subnet-priv>vpce-s3",
    "subnet-pub>igw-1",
    "subnet-pub>nat-1",
    // A gateway no route uses still shows, under its VPC.
    "vpc-demo>pcx-1",
    "vpc-demo>subnet-priv",
    "vpc-demo>subnet-pub",
  ]);
  // Public subnets first, and labelled by what they are.
  assert.equal(graph.nodes.find((n) => n.id === "subnet-pub").label, "Public 10.20.0.0/24");
  assert.deepEqual(topologyGraph(NETWORK, "vpc-missing"), { nodes: [], edges: [] });
});

test("the phone's list has each VPC's subnets with their non-local routes and gateways", () => {
  const [demo, fallback] = networkTree(NETWORK);
  assert.equal(demo.label, "tally-demo");
  assert.equal(fallback.label, "vpc-default");
  assert.deepEqual(
    demo.subnets.map((s) => s.label),
    ["Public 10.20.0.0/24", "Private 10.20.1.0/24"],
  );
  assert.deepEqual(
    demo.subnets[1].routes.map((r) => `${r.destination} ${r.kind}`),
    ["0.0.0.0/0 nat", "pl-s3 endpoint"],
  );
  assert.deepEqual(
    demo.gateways.map((g) => g.kind),
    ["igw", "nat", "endpoint", "peering"],
  );
  assert.equal(fallback.gateways.length, 1); // the peering, seen from the other side
});

test("boxes are as wide as their longest text, and overlapping boxes are caught", () => {
  const measure = (text) => text.length * 10;
  const box = nodeSize({ label: "NAT gateway", detail: "nat-2cbb813902552ac86 · 127.63.161.50" }, { measure });
  assert.equal(box.width, 37 * 10 + 24);
  assert.equal(nodeSize({ label: "x", detail: "" }, { measure }).width, 120);
  const a = { x: 100, y: 100, width: 100, height: 50 };
  assert.equal(overlaps([a, { ...a, x: 199 }]), true);
  assert.equal(overlaps([a, { ...a, x: 200 }]), false);
  assert.equal(overlaps([a, { ...a, y: 150 }]), false);
});

test("security rules in words, and which are risky", () => {
  const ssh = { protocol: "tcp", from_port: 22, to_port: 22, cidrs: ["0.0.0.0/0"], source_groups: [] };
  assert.equal(ruleText(ssh), "tcp 22 from 0.0.0.0/0");
  assert.equal(riskyRule(ssh), true);
  assert.equal(riskyRule({ ...ssh, from_port: 443, to_port: 443 }), false);
  assert.equal(riskyRule({ ...ssh, cidrs: ["10.0.0.0/8"] }), false);
  // A range that spans a database port, IPv6 world, all traffic.
  assert.equal(riskyRule({ protocol: "tcp", fromPort: 5000, toPort: 6000, cidrs: ["::/0"] }), true);
  assert.equal(riskyRule({ protocol: "-1", from_port: null, to_port: null, cidrs: ["0.0.0.0/0"] }), true);
  assert.equal(ruleText({ protocol: "-1", cidrs: [], source_groups: ["sg-1"] }), "all traffic from sg-1");
  assert.equal(
    ruleText({ protocol: "tcp", fromPort: 1000, toPort: 2000, cidrs: ["1.2.3.4/32"] }),
    "tcp 1000–2000 from 1.2.3.4/32",
  );
});

test("findings become flags, most severe first, and the runtime's apart", () => {
  const findings = [
    { code: "lambda.idle", severity: "low", message: "no invocations" },
    { code: "lambda.runtime-deprecated", severity: "medium", message: "python3.9" },
    { code: "lambda.erroring", severity: "high", message: "20% errors" },
  ];
  assert.deepEqual(
    flags(findings).map((f) => f.label),
    ["Erroring", "Runtime past end of support", "Idle"],
  );
  assert.equal(runtimeFlag(findings).code, "lambda.runtime-deprecated");
  assert.equal(runtimeFlag([]), null);
  assert.equal(flags([{ code: "new.kind", severity: "low" }])[0].label, "new.kind");
});

test("trends, ages, reservations and ranges read as a person says them", () => {
  assert.deepEqual(trend("7.0"), { text: "+7%", direction: "up" });
  assert.deepEqual(trend("-12.6"), { text: "−13%", direction: "down" });
  assert.deepEqual(trend("0.2"), { text: "±0%", direction: "flat" });
  assert.deepEqual(trend(null), { text: "—", direction: "none" });
  assert.equal(agoText("2026-11-25T12:00:00+00:00", "2026-11-25"), "today");
  assert.equal(agoText("2026-11-24T23:00:00+00:00", "2026-11-25"), "yesterday");
  assert.equal(agoText("2026-09-26T12:00:00+00:00", "2026-11-25"), "60 days ago");
  assert.equal(agoText(null, "2026-11-25"), "never");
  assert.equal(reservedText(null), "unreserved");
  assert.equal(reservedText(0), "0 (paused)");
  assert.equal(reservedText(20), "20");
  const daily = Array.from({ length: 30 }, (_, i) => ({ day: `d${i}` }));
  assert.deepEqual(
    lastDays(daily, 7).map((d) => d.day),
    ["d23", "d24", "d25", "d26", "d27", "d28", "d29"],
  );
  assert.equal(lastDays(daily, 90).length, 30);
});

test("each action names the permission the API's catalog gives it", () => {
  assert.equal(actionPermission("lambda:PutFunctionConcurrency"), "estate:lambda:manage");
  assert.equal(actionPermission("lambda:TagResource"), "estate:lambda:manage");
  assert.equal(actionPermission("iam:DeleteUser"), "estate:iam:DeleteUser");
});

test("the metrics range ends at the start of the business day and covers whole days", () => {
  const range = metricRange("2026-11-25", 7);
  assert.equal(range.start, "2026-11-18T00:00:00Z");
  assert.equal(range.end, "2026-11-25T00:00:00Z");
  assert.deepEqual(range.days, [
    "2026-11-18",
    "2026-11-19",
    "2026-11-20",
    "2026-11-21",
    "2026-11-22",
    "2026-11-23",
    "2026-11-24",
  ]);
  // Across a month's end.
  assert.deepEqual(metricRange("2026-12-01", 2).days, ["2026-11-29", "2026-11-30"]);
});

test("datapoints are summed per UTC day on the cost's axis", () => {
  const days = ["2026-11-23", "2026-11-24"];
  const points = [
    { at: "2026-11-23T00:00:00+00:00", value: 10 },
    { at: "2026-11-23T23:55:00+00:00", value: 5 },
    { at: "2026-11-22T12:00:00+00:00", value: 99 }, // before the range: left out
    { at: "2026-11-24T06:00:00+00:00", value: 0.1 },
  ];
  assert.deepEqual(dailySums(points, days), [15, 0.1]);
  assert.deepEqual(dailySums(undefined, days), [0, 0]);
  assert.equal(meanOf([{ value: 10 }, { value: 20 }]), 15);
  assert.equal(meanOf([]), null);
});
