"""AWS WAF web ACLs (the ``enableWaf`` context value): one in front of the API's stage
(REGIONAL) and one in front of the dashboard's CloudFront distribution (CLOUDFRONT scope).

Each has a rate-based rule per client IP (``wafRateLimit`` requests per 5 minutes; past it the
IP is blocked until its rate falls again) and AWS managed rule groups, which cost nothing
beyond the $1 a month each rule costs: the API's has the IP reputation list, the common rule
set and known bad inputs; the dashboard's, which only serves static files, the reputation list.
Costs: docs/deploy.md.

A CLOUDFRONT-scope ACL can only be created in us-east-1. A stack deployed there makes the
dashboard's itself; elsewhere the stack cannot (a second stack in us-east-1 with cross-region
references would need both regions fixed at synth and a custom resource in each), so the
operator names one made in us-east-1 with ``dashboardWebAclArn`` (docs/deploy.md has the
template), as for the dashboard's certificate.
"""

from __future__ import annotations

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

# AWS WAF's own window choices are 60, 120, 300 and 600 seconds; limits count per window.
RATE_WINDOW_SECONDS = 300
MIN_RATE_LIMIT = 10  # AWS WAF's lowest rate-based limit
API_MANAGED_RULES = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)
DASHBOARD_MANAGED_RULES = ("AWSManagedRulesAmazonIpReputationList",)
RATE_RULE = "RatePerIp"


def web_acl(
    scope: Construct,
    construct_id: str,
    *,
    waf_scope: str,
    metric_name: str,
    rate_limit: int,
    managed_rules: tuple[str, ...],
) -> wafv2.CfnWebACL:
    """A web ACL that allows by default, blocks an IP over ``rate_limit`` requests per
    ``RATE_WINDOW_SECONDS``, then applies ``managed_rules`` in order."""
    if rate_limit < MIN_RATE_LIMIT:
        raise ValueError(f"a WAF rate limit is at least {MIN_RATE_LIMIT}")

    def managed(name: str, priority: int) -> wafv2.CfnWebACL.RuleProperty:
        return wafv2.CfnWebACL.RuleProperty(
            name=name,
            priority=priority,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=name
                )
            ),
            visibility_config=_visibility(name),
        )

    return wafv2.CfnWebACL(
        scope,
        construct_id,
        scope=waf_scope,
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=_visibility(metric_name),
        rules=[
            wafv2.CfnWebACL.RuleProperty(
                name=RATE_RULE,
                priority=0,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        aggregate_key_type="IP",
                        limit=rate_limit,
                        evaluation_window_sec=RATE_WINDOW_SECONDS,
                    )
                ),
                visibility_config=_visibility(RATE_RULE),
            ),
            *(managed(name, n) for n, name in enumerate(managed_rules, start=1)),
        ],
    )


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True,
        metric_name=metric_name,
        sampled_requests_enabled=True,
    )
