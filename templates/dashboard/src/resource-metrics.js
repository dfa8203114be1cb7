// A resource's metrics panel (GET /api/estate/metrics, issue 15): which ARN to ask it for,
// what each series means and how a day of it reads, and which of its metrics a Tally alarm
// (cloudwatch:PutMetricAlarm) can watch. Pure: no DOM.

const MB = 1024 * 1024;
const GB = 1024 * MB;

// The types the API draws a panel for, and how an assigned resource id becomes their ARN.
// An id without its ARN (an instance id, a DB identifier, a bucket name) is asked for with
// the region and account left out: the API then reads the deployment's default region, and the
// resource's assignments and cost lines meet it under the same key (tally.resources.match_key).
const ARN_OF = {
  ec2: (id) => `arn:aws:ec2:::instance/${id}`,
  rds: (id) => `arn:aws:rds:::db:${id}`,
  s3: (id) => `arn:aws:s3:::${id}`,
  lambda: (id) => `arn:aws:lambda:::function:${id}`,
};

/** The ARN to ask the metrics panel for, or null for a type without one. */
export function panelArn(resourceType, resourceId) {
  const id = String(resourceId || "").trim();
  if (!id) return null;
  const arn = /^arn:[^:]+:([^:]+):/.exec(id);
  // An ARN is asked for as it is: the API tells an EC2 volume from an instance (422).
  if (arn) return ARN_OF[arn[1]] ? id : null;
  const make = ARN_OF[resourceType];
  return make ? make(id) : null;
}

/**
 * The ARN of the panel for an id that says its own type (an ARN, an EC2 instance id), or
 * null: a DB identifier or a bucket name needs the assignment's type first.
 */
export function panelArnOfId(resourceId) {
  const id = String(resourceId || "").trim();
  return panelArn(/^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(id) ? "ec2" : null, id);
}

/**
 * How each series of a panel reads, by the API's series id: its label, the unit one day of it
 * is shown in, and how a day's datapoints combine (the mean of an average, the sum of a sum,
 * the highest of a maximum, the lowest of a minimum). `alarm`: the metric and statistic a
 * Tally alarm takes (the metric and statistic the API's panel reads; PutMetricAlarm takes no
 * percentile, so duration's alarm watches its maximum).
 */
export const SERIES = {
  cpu: { label: "CPU", unit: "%", day: "mean", alarm: { metric: "CPUUtilization", statistic: "Average" } },
  networkIn: {
    label: "Network in",
    unit: "MB",
    scale: MB,
    day: "sum",
    alarm: { metric: "NetworkIn", statistic: "Sum" },
  },
  networkOut: {
    label: "Network out",
    unit: "MB",
    scale: MB,
    day: "sum",
    alarm: { metric: "NetworkOut", statistic: "Sum" },
  },
  statusCheckFailed: {
    label: "Status check failed",
    unit: "count",
    day: "max",
    alarm: { metric: "StatusCheckFailed", statistic: "Maximum" },
  },
  connections: {
    label: "Connections",
    unit: "count",
    day: "mean",
    alarm: { metric: "DatabaseConnections", statistic: "Average" },
  },
  freeStorage: {
    label: "Free storage",
    unit: "GB",
    scale: GB,
    day: "min",
    alarm: { metric: "FreeStorageSpace", statistic: "Minimum" },
  },
  readIops: { label: "Read IOPS", unit: "IOPS", day: "mean", alarm: { metric: "ReadIOPS", statistic: "Average" } },
  writeIops: { label: "Write IOPS", unit: "IOPS", day: "mean", alarm: { metric: "WriteIOPS", statistic: "Average" } },
  bucketSizeBytes: {
    label: "Bucket size",
    unit: "GB",
    scale: GB,
    day: "mean",
    alarm: { metric: "BucketSizeBytes", statistic: "Average" },
  },
  numberOfObjects: {
    label: "Objects",
    unit: "count",
    day: "mean",
    alarm: { metric: "NumberOfObjects", statistic: "Average" },
  },
  invocations: { label: "Invocations", unit: "count", day: "sum", alarm: { metric: "Invocations", statistic: "Sum" } },
  errors: { label: "Errors", unit: "count", day: "sum", alarm: { metric: "Errors", statistic: "Sum" } },
  throttles: { label: "Throttles", unit: "count", day: "sum", alarm: { metric: "Throttles", statistic: "Sum" } },
  durationP50: { label: "Duration p50", unit: "ms", day: "mean" },
  durationP95: { label: "Duration p95", unit: "ms", day: "mean" },
  durationP99: { label: "Duration p99", unit: "ms", day: "mean", alarm: { metric: "Duration", statistic: "Maximum" } },
  concurrentExecutions: {
    label: "Concurrent executions",
    unit: "count",
    day: "max",
    alarm: { metric: "ConcurrentExecutions", statistic: "Maximum" },
  },
};

/** A series' reading (`SERIES`), or a plain one for an id this dashboard does not know. */
export function seriesInfo(id) {
  return SERIES[id] || { label: id, unit: "", day: "mean" };
}

/**
 * One value a day for `days` (["YYYY-MM-DD"]) from datapoints [{at, value}], combined as
 * `how` (mean, sum, max, min) and divided by `scale`; null for a day without datapoints (a
 * gap in the line, not a zero).
 */
export function dailyValues(points, days, how = "mean", scale = 1) {
  const byDay = new Map(days.map((d) => [d, []]));
  for (const p of points || []) {
    const list = byDay.get(String(p.at).slice(0, 10));
    if (list && p.value !== null && p.value !== undefined) list.push(p.value);
  }
  const combine = {
    mean: (xs) => xs.reduce((s, x) => s + x, 0) / xs.length,
    sum: (xs) => xs.reduce((s, x) => s + x, 0),
    max: (xs) => Math.max(...xs),
    min: (xs) => Math.min(...xs),
  }[how];
  return days.map((d) => {
    const xs = byDay.get(d);
    if (!xs.length) return null;
    return Math.round((combine(xs) / scale) * 1000) / 1000;
  });
}

const COMPARISON_TEXT = {
  GreaterThanOrEqualToThreshold: "≥",
  GreaterThanThreshold: ">",
  LessThanThreshold: "<",
  LessThanOrEqualToThreshold: "≤",
};
export const COMPARISONS = Object.keys(COMPARISON_TEXT);

/** "Errors (Sum) ≥ 5 for 2 periods of 5 minutes": an alarm's rule in words. */
export function alarmRule({ metric, statistic, stat, comparison, threshold, periods, periodSeconds }) {
  const sign = COMPARISON_TEXT[comparison] || comparison || "";
  const how = statistic || stat;
  const rule = `${metric}${how ? ` (${how})` : ""} ${sign} ${threshold ?? ""}`.trim();
  if (!periods || !periodSeconds) return rule;
  const minutes = periodSeconds / 60;
  const span =
    minutes % 60 ? `${minutes} minute${minutes === 1 ? "" : "s"}` : `${minutes / 60} hour${minutes === 60 ? "" : "s"}`;
  return `${rule} for ${periods} period${periods === 1 ? "" : "s"} of ${span}`;
}

/** The alarm's state as a flag's severity class: ALARM high, OK ok, anything else medium. */
export function alarmSeverity(state) {
  return state === "ALARM" ? "high" : state === "OK" ? "ok" : "medium";
}

/** The address of a resource's page (the subject kept for an admin looking at someone). */
export function resourceHref(resourceId, subject, days = 30) {
  const params = new URLSearchParams();
  if (subject && !subject.isSelf) {
    params.set("user", subject.userId);
    params.set("name", subject.username);
  }
  if (days !== 30) params.set("days", String(days));
  const query = params.toString();
  return `#/resources/${encodeURIComponent(resourceId)}${query ? `?${query}` : ""}`;
}

/** A resource's short name: a function or bucket name from its ARN, else the id itself. */
export function resourceName(resourceId) {
  const arn = /^arn:[^:]+:[^:]+:[^:]*:[^:]*:(.+)$/.exec(resourceId);
  if (!arn) return resourceId;
  const parts = arn[1].split(/[/:]/);
  return parts.at(-1) || resourceId;
}
