import assert from "node:assert/strict";
import { test } from "node:test";

import {
  alarmRule,
  alarmSeverity,
  dailyValues,
  panelArn,
  panelArnOfId,
  resourceHref,
  resourceName,
  seriesInfo,
} from "../src/resource-metrics.js";
import { actionPermission } from "../src/estate-actions.js";

const DAYS = ["2026-11-22", "2026-11-23", "2026-11-24"];

test("an assigned id becomes the ARN the metrics panel is asked for", () => {
  assert.equal(panelArn("ec2", "i-0abc"), "arn:aws:ec2:::instance/i-0abc");
  assert.equal(panelArn("rds", "shared-orders-db"), "arn:aws:rds:::db:shared-orders-db");
  assert.equal(panelArn("s3", "tally-demo-alice-datasets"), "arn:aws:s3:::tally-demo-alice-datasets");
  const fn = "arn:aws:lambda:us-east-1:123456789012:function:bob-image-resize";
  assert.equal(panelArn("lambda", fn), fn);
  // An ARN is kept as it is (the API refuses an EC2 volume with a 422).
  assert.equal(panelArn("ec2", " arn:aws:ec2:us-east-1:1:volume/vol-1 "), "arn:aws:ec2:us-east-1:1:volume/vol-1");
});

test("an id that says its own type has its panel's ARN before its assignment is read", () => {
  assert.equal(panelArnOfId("i-0123456789abcdef0"), "arn:aws:ec2:::instance/i-0123456789abcdef0");
  assert.equal(panelArnOfId("i-0abc1234"), "arn:aws:ec2:::instance/i-0abc1234");
  const fn = "arn:aws:lambda:us-east-1:123456789012:function:bob-image-resize";
  assert.equal(panelArnOfId(fn), fn);
  // A bucket or a DB identifier could be anything: its assignment's type decides.
  assert.equal(panelArnOfId("i-am-a-bucket"), null);
  assert.equal(panelArnOfId("shared-orders-db"), null);
  assert.equal(panelArnOfId("arn:aws:sqs:us-east-1:123456789012:jobs"), null);
});

test("types without a panel have no ARN to ask for", () => {
  assert.equal(panelArn("dynamodb", "orders"), null);
  assert.equal(panelArn("other", "arn:aws:sqs:us-east-1:123456789012:jobs"), null);
  assert.equal(panelArn("ec2", "  "), null);
});

test("a day's value combines its datapoints as the statistic does, with gaps left empty", () => {
  const points = [
    { at: "2026-11-22T01:00:00+00:00", value: 10 },
    { at: "2026-11-22T13:00:00+00:00", value: 30 },
    { at: "2026-11-24T02:00:00+00:00", value: 5 },
  ];
  assert.deepEqual(dailyValues(points, DAYS, "mean"), [20, null, 5]);
  assert.deepEqual(dailyValues(points, DAYS, "sum"), [40, null, 5]);
  assert.deepEqual(dailyValues(points, DAYS, "max"), [30, null, 5]);
  assert.deepEqual(dailyValues(points, DAYS, "min"), [10, null, 5]);
  // Bytes shown in MB; points outside the days are left out.
  const mb = [
    { at: "2026-11-23T00:00:00Z", value: 3 * 1024 * 1024 },
    { at: "2026-11-25T00:00:00Z", value: 1 },
  ];
  assert.deepEqual(dailyValues(mb, DAYS, "sum", seriesInfo("networkIn").scale), [null, 3, null]);
  assert.deepEqual(dailyValues([], DAYS), [null, null, null]);
});

test("each series says how it reads; an unknown one by its id", () => {
  assert.equal(seriesInfo("cpu").unit, "%");
  assert.equal(seriesInfo("freeStorage").day, "min");
  assert.equal(seriesInfo("errors").alarm.metric, "Errors");
  // Every panel metric takes an alarm, as the panel reads it; duration's p50/p95 do not
  // (PutMetricAlarm takes no percentile: p99's alarm watches the maximum).
  assert.deepEqual(seriesInfo("cpu").alarm, { metric: "CPUUtilization", statistic: "Average" });
  assert.deepEqual(seriesInfo("freeStorage").alarm, { metric: "FreeStorageSpace", statistic: "Minimum" });
  assert.equal(seriesInfo("durationP50").alarm, undefined);
  assert.deepEqual(seriesInfo("somethingNew"), { label: "somethingNew", unit: "", day: "mean" });
});

test("an alarm's rule reads in words, as created and as listed", () => {
  assert.equal(
    alarmRule({
      metric: "Errors",
      statistic: "Sum",
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: "5",
      periods: 2,
      periodSeconds: 300,
    }),
    "Errors (Sum) ≥ 5 for 2 periods of 5 minutes",
  );
  assert.equal(
    alarmRule({
      metric: "Duration",
      statistic: "Maximum",
      comparison: "GreaterThanThreshold",
      threshold: 900,
      periods: 1,
      periodSeconds: 3600,
    }),
    "Duration (Maximum) > 900 for 1 period of 1 hour",
  );
  // The panel's alarms carry `stat` and no periods.
  assert.equal(
    alarmRule({ metric: "CPUUtilization", stat: "Average", comparison: "LessThanThreshold", threshold: 2 }),
    "CPUUtilization (Average) < 2",
  );
  assert.equal(alarmSeverity("ALARM"), "high");
  assert.equal(alarmSeverity("OK"), "ok");
  assert.equal(alarmSeverity("INSUFFICIENT_DATA"), "medium");
});

test("a resource's page keeps the id whole and, for an admin, whose it is", () => {
  const arn = "arn:aws:lambda:us-east-1:123456789012:function:bob-image-resize";
  assert.equal(resourceHref("i-0abc", { isSelf: true }), "#/resources/i-0abc");
  assert.equal(
    resourceHref(arn, { isSelf: false, userId: "u-1", username: "bob" }, 7),
    `#/resources/${encodeURIComponent(arn)}?user=u-1&name=bob&days=7`,
  );
  assert.ok(!resourceHref(arn, { isSelf: true }).slice(12).includes("/"));
  assert.equal(resourceName(arn), "bob-image-resize");
  assert.equal(resourceName("arn:aws:s3:::tally-demo-alice-datasets"), "tally-demo-alice-datasets");
  assert.equal(resourceName("i-0abc"), "i-0abc");
});

test("alarms and refreshes need their own permissions", () => {
  assert.equal(actionPermission("cloudwatch:PutMetricAlarm"), "estate:alarms:write");
  assert.equal(actionPermission("tally:RefreshInventory"), "estate:refresh");
  assert.equal(actionPermission("lambda:PutFunctionConcurrency"), "estate:lambda:manage");
});
