// The AWS estate's tabs and the permission each needs (issue 15), apart from the estate's screen
// so the menu can decide whether to show "AWS estate" without loading that screen's code.

export const TABS = [
  { key: "lambda", title: "Lambda functions", allowed: (access) => access.can("estate:read") },
  { key: "network", title: "Network", allowed: (access) => access.can("estate:read", "org") },
  { key: "iam", title: "IAM users", allowed: (access) => access.can("estate:iam:read", "org") },
];

/** Whether the menu shows the estate at all. */
export function estateAllowed(access) {
  return TABS.some((tab) => tab.allowed(access));
}
