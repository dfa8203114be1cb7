"""CloudFormation output IDs of the Tally stack.

The local stack, tests, scripts and ``docs/deploy.md`` read outputs back by these IDs
(``aws cloudformation describe-stacks --query "Stacks[0].Outputs"``), so they are constants.
"""

from __future__ import annotations

from tally.tables import TableSpec

API_URL = "ApiUrl"
DASHBOARD_URL = "DashboardUrl"
DASHBOARD_BUCKET = "DashboardBucketName"
DASHBOARD_DISTRIBUTION_ID = "DashboardDistributionId"
USER_POOL_ID = "UserPoolId"
USER_POOL_CLIENT_ID = "UserPoolClientId"
EXPORT_BUCKET = "ExportBucketName"
EVENT_BUS_NAME = "EventBusName"
ADMIN_ALERTS_TOPIC_ARN = "AdminAlertsTopicArn"
OPERATIONS_TOPIC_ARN = "OperationsTopicArn"
API_FUNCTION_NAME = "ApiFunctionName"
INGEST_FUNCTION_NAME = "IngestFunctionName"
INGEST_DEAD_LETTER_QUEUE_URL = "IngestDeadLetterQueueUrl"
INGEST_WORKER_FUNCTION_NAME = "IngestWorkerFunctionName"
INGEST_BATCHES_QUEUE_URL = "IngestBatchesQueueUrl"
INGEST_BATCHES_DEAD_LETTER_QUEUE_URL = "IngestBatchesDeadLetterQueueUrl"
INGEST_WORK_BUCKET = "IngestWorkBucketName"
MONITORING_DASHBOARD_NAME = "MonitoringDashboardName"
PAGE_TOKEN_SECRET_ARN = "PageTokenSecretArn"  # noqa: S105 - an output id, not a secret
STRIPE_SECRET_ARN = "StripeSecretArn"  # noqa: S105 - an output id, not a secret
ALERTS_FUNCTION_NAME = "AlertsFunctionName"
ALERTS_QUEUE_URL = "AlertsQueueUrl"
ALERTS_DEAD_LETTER_QUEUE_URL = "AlertsDeadLetterQueueUrl"
ALERTS_FAN_OUT_DEAD_LETTER_QUEUE_URL = "AlertsFanOutDeadLetterQueueUrl"
SES_CONFIGURATION_SET = "SesConfigurationSetName"
UNSUBSCRIBE_SECRET_ARN = "UnsubscribeSecretArn"  # noqa: S105 - an output id, not a secret
REPORTS_FUNCTION_NAME = "ReportsFunctionName"
REPORTS_QUEUE_URL = "ReportsQueueUrl"
REPORTS_DEAD_LETTER_QUEUE_URL = "ReportsDeadLetterQueueUrl"
REPORTS_JOBS_DEAD_LETTER_QUEUE_URL = "ReportsJobsDeadLetterQueueUrl"
ACCESS_MIGRATION_FUNCTION_NAME = "AccessMigrationFunctionName"
INVENTORY_FUNCTION_NAME = "InventoryFunctionName"
INVENTORY_ROLE_ARN = "InventoryRoleArn"
MANAGEMENT_FUNCTION_NAME = "ManagementFunctionName"
RATES_FUNCTION_NAME = "RatesFunctionName"


def table_name(spec: TableSpec) -> str:
    """Output ID of a table's physical name, e.g. ``TableUsersName``."""
    return f"Table{spec.key.title().replace('-', '').replace('_', '')}Name"
