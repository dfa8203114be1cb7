"""The access migration (``tally.org.migration``), run by a CloudFormation trigger on every
deploy: explicit roles for every user of the pool (admins group -> admin@org, everyone else
member@self; never overwriting a profile already set), the team sync from Cognito groups when
``TALLY_TEAM_GROUP_PREFIX`` is set, and ``listed`` on audit entries older than the audit
log's "all" index, and ``resource_key`` on cost lines older than their "by-resource"
index. Idempotent: a second deploy changes nothing. A failure raises, which fails
the deployment (the trigger waits for this function), so a half-migrated stack never goes live
unnoticed."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit

from access.settings import AccessMigrationSettings
from tally import observability
from tally.clock import utc_now
from tally.org.migration import (
    CognitoGroups,
    MigrationResult,
    backfill_audit_listing,
    migrate_access,
)

SERVICE = "tally-access"
logger = Logger(service=SERVICE)
metrics = observability.metrics(SERVICE)
tracer = observability.tracer(SERVICE)
observability.start_error_tracking(SERVICE)
# MigrationResult field -> metric: what a deploy changed (all zeros on a second deploy).
MIGRATION_METRICS = {
    "AccessProfilesSet": "profiles_set",
    "AccessAdminsSet": "admins_set",
    "TeamsCreated": "teams_created",
    "TeamsUpdated": "teams_updated",
}


def run_migration(settings: AccessMigrationSettings) -> MigrationResult:
    """The migration against the tables and user pool ``settings`` name (also what the
    local stack runs at start)."""
    from tally.store.access import dynamodb_store
    from tally.store.audit import AuditItem  # noqa: F401 - imported to be bound below
    from tally.store.base import bind_items
    from tally.store.costs import backfill_resource_keys

    cognito = boto3.client(
        "cognito-idp", region_name=settings.region, endpoint_url=settings.aws_endpoint_url
    )
    result = migrate_access(
        dynamodb_store(settings),
        CognitoGroups(cognito, settings.user_pool_id),
        now=utc_now(),
        team_group_prefix=settings.team_group_prefix,
    )
    bind_items(settings)
    return replace(
        result,
        audit_backfilled=backfill_audit_listing(),
        cost_lines_keyed=backfill_resource_keys(),
    )


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    counts = asdict(run_migration(AccessMigrationSettings.load()))
    for name, field in MIGRATION_METRICS.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=counts[field])
    logger.info("access migration done", extra=counts)
    return counts
