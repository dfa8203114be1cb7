"""The Tally stack: composes one construct per capability and owns what cuts across them
(tags, outputs). cdk-nag is registered on the app, in ``app.py``."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Annotations, CfnOutput, Duration, Stack, Tags, Token
from constructs import Construct

from infra import outputs
from infra.config import TallyConfig
from infra.constructs import waf
from infra.constructs.access import AccessMigration
from infra.constructs.alerts import Alerts
from infra.constructs.api import Api
from infra.constructs.athena import AthenaExport
from infra.constructs.auth import Auth
from infra.constructs.dashboard import Dashboard
from infra.constructs.data import Access, Data
from infra.constructs.events import Events
from infra.constructs.ingest import Ingest
from infra.constructs.inventory import Inventory
from infra.constructs.lambda_factory import TRACE_DISABLED_VARIABLE, FunctionRuntime
from infra.constructs.management import Management
from infra.constructs.messaging import Messaging
from infra.constructs.monitoring import MetricAlarm, Monitoring
from infra.constructs.payments import Payments
from infra.constructs.rates import Rates
from infra.constructs.reports import Reports
from infra.constructs.storage import Storage
from infra.names import METRICS_NAMESPACE
from tally.tables import ALL_TABLES

STACK_ID = "Tally"
# CloudFront's web ACLs are global resources that AWS WAF keeps in this region only.
CLOUDFRONT_WAF_REGION = "us-east-1"
DASHBOARD_WITHOUT_WAF_WARNING = "tally:dashboard-without-waf"


class TallyStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: TallyConfig, **kwargs: Any
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Tally: per-user AWS cost management (assignments, budgets, alerts)",
            **kwargs,
        )
        self.config = config
        Tags.of(self).add("application", "tally")

        messaging = Messaging(
            self, "Messaging", sender_email=config.sender_email, admin_email=config.admin_email
        )
        storage = Storage(self, "Storage", export_retention_days=config.export_retention_days)
        data = Data(self, "Data")
        domain_events = Events(self, "Events")
        dashboard = Dashboard(
            self,
            "Dashboard",
            access_logs=storage.access_logs,
            domain_name=config.dashboard_domain,
            certificate_arn=config.dashboard_certificate_arn,
            web_acl_arn=self._dashboard_web_acl(config),
        )
        auth = Auth(
            self,
            "Auth",
            admin_email=config.admin_email,
            require_mfa=config.require_mfa,
            require_admin_mfa=config.require_admin_mfa,
            dashboard_url=dashboard.origin,
            ses_sender=config.sender_email if config.cognito_email_via_ses else None,
        )
        if config.cognito_email_via_ses:
            auth.node.add_dependency(messaging.sender_identity)
        runtime = FunctionRuntime(
            self,
            "Runtime",
            log_retention_days=config.log_retention_days,
            environment={
                **data.environment,
                "TALLY_OWNER_TAG_KEY": config.owner_tag_key,
                "TALLY_OWNER_TAG_MAP": json.dumps(config.owner_tag_map, sort_keys=True),
                "TALLY_BUDGET_METRIC": config.budget_metric,
                "TALLY_CLAIM_UNOWNED": config.claim_unowned,
                # Resources of other accounts are refused unless listed (this account: always).
                "TALLY_ORG_ACCOUNTS": ",".join(dict.fromkeys([self.account, *config.org_accounts])),
                "TALLY_DEFAULT_CURRENCY": config.default_currency,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
            sentry_dsn_secret_name=config.sentry_dsn_secret_name,
        )
        api = Api(
            self,
            "Api",
            runtime=runtime,
            data=data,
            user_pool=auth.user_pool,
            app_clients=[auth.dashboard_client],
            allowed_origin=dashboard.origin,
            throttle_rate=config.api_throttle_rate,
            throttle_burst=config.api_throttle_burst,
            enable_waf=config.enable_waf,
            waf_rate_limit=config.waf_rate_limit,
            log_retention_days=config.log_retention_days,
        )
        auth.enforce_admin_mfa(api.function)
        # The chargeback journal's account codes (tally.payments.journal).
        api.function.add_environment(
            "TALLY_JOURNAL_EXPENSE_ACCOUNT", config.journal_expense_account
        )
        api.function.add_environment("TALLY_JOURNAL_CLOUD_ACCOUNT", config.journal_cloud_account)
        # Payments (issue 17): the Stripe keys' secret and webhook route, only when turned on.
        payments = (
            Payments(
                self,
                "Payments",
                api=api,
                webhook_rate=config.payments_webhook_rate,
                webhook_burst=config.payments_webhook_burst,
            )
            if config.payments
            else None
        )
        # The X-Ray SDK costs the API's cold starts ~100-200 ms (tally.observability): opt-in.
        api.function.add_environment(
            TRACE_DISABLED_VARIABLE, "false" if config.api_xray_sdk else "true"
        )
        # Explicit roles for every user (and the team sync) on each deploy, once the tables
        # and the pool exist; the API works before it too (profiles never set get defaults).
        access_migration = AccessMigration(
            self,
            "AccessMigration",
            runtime=runtime,
            data=data,
            user_pool=auth.user_pool,
            team_group_prefix=config.team_group_prefix,
            execute_after=[data, auth.user_pool],
            log_retention_days=config.log_retention_days,
        )
        dashboard.deploy_site(
            api_url=api.url,
            rest_api=api.rest_api,
            user_pool=auth.user_pool,
            client=auth.dashboard_client,
            log_retention_days=config.log_retention_days,
        )
        ingest = Ingest(
            self,
            "Ingest",
            runtime=runtime,
            data=data,
            events=domain_events,
            user_pool=auth.user_pool,
            export_bucket=storage.exports,
            work_bucket=storage.ingest_work,
            workers=config.ingest_workers,
            schedule_expression=config.schedule_expression,
            cost_source=config.cost_source,
            restatement_days=config.restatement_days,
        )
        if config.cost_source == "athena":
            # The export aggregated by Athena (infra/constructs/athena.py): only when chosen.
            athena_export = AthenaExport(
                self,
                "Athena",
                export_bucket=storage.exports,
                export_prefix=config.athena_export_prefix,
                access_logs=storage.access_logs,
                bytes_scanned_cutoff=config.athena_bytes_scanned_cutoff,
            )
            for name, value in athena_export.environment.items():
                ingest.function.add_environment(name, value)
            ingest_role = ingest.function.role
            assert ingest_role is not None  # every function has its own role (FunctionRuntime)
            athena_export.grant_query(ingest_role)
        alerts = Alerts(
            self,
            "Alerts",
            runtime=runtime,
            data=data,
            events=domain_events,
            messaging=messaging,
            dashboard_url=f"{dashboard.origin}/",
            api_url=api.url,
        )
        # The API seals webhook URLs and verifies unsubscribe links with the alerts' key and
        # secret. (No TALLY_API_URL for the API: its own URL would make the function depend
        # on the deployment that depends on it.)
        for name, value in alerts.environment.items():
            api.function.add_environment(name, value)
        alerts.grant_secrets(api.function, seal=True)
        reports = Reports(
            self,
            "Reports",
            runtime=runtime,
            data=data,
            events=domain_events,
            messaging=messaging,
            bucket=storage.exports,
            configuration_set_name=alerts.configuration_set.configuration_set_name,
            dashboard_url=f"{dashboard.origin}/",
            org_name=config.org_name,
        )
        # The API queues export and invoice jobs and pre-signs links to their files.
        for name, value in reports.api_environment().items():
            api.function.add_environment(name, value)
        api_role = api.function.role
        assert api_role is not None  # every function has its own role (FunctionRuntime)
        reports.grant_api(api_role, data)
        inventory = Inventory(
            self,
            "Inventory",
            runtime=runtime,
            data=data,
            regions=config.estate_regions,
            read_role_arn=config.estate_read_role_arn,
        )
        management = Management(
            self,
            "Management",
            runtime=runtime,
            data=data,
            topic_key=messaging.topic_key,
            regions=config.estate_regions,
            iam_path=config.estate_iam_path,
            families=config.estate_actions,
        )
        management.wire_api(api.function, inventory.function, data, account=inventory.account)
        # Exchange rates (issue 17): fed daily into the billing table, which the API reads
        # (rates in force, conversions) and writes (manual rates, billing settings) and the
        # alerts read (a budget's spend in its own currency).
        rates = Rates(self, "Rates", runtime=runtime, data=data, rates_url=config.rates_url)
        data.grant(api.function, Access.READ_WRITE, ["billing"])
        data.grant(alerts.function, Access.READ, ["billing"])
        # The billing periods (tally.periods, in the billing settings): every function that
        # computes a period reads the definition; the reports function rebuilds the roll-ups
        # when it changes (its roll-up writes are in Reports).
        for reader in (reports.function, ingest.function, ingest.worker):
            data.grant(reader, Access.READ, ["billing"])
        # Reserved capacity: the API reads what the reports refresh stored (Cost Explorer's
        # snapshot) and what the ingest of a FOCUS export stored (each day's commitment uses,
        # tally.commitments.focus), which the ingest writes (BatchWriteItem, no read).
        data.grant(api.function, Access.READ, ["commitments"])
        data.grant(ingest.function, Access.WRITE, ["commitments"])
        management.notify_through(alerts.function, alerts.dead_letter_queue)
        monitoring = Monitoring(
            self,
            "Monitoring",
            alarm_topic=messaging.operations,
            functions={
                "api": api.function,
                "ingest": ingest.function,
                "ingest-worker": ingest.worker,
                "alerts": alerts.function,
                "reports": reports.function,
                "access-migration": access_migration.function,
                "inventory": inventory.function,
                "management": management.function,
                "rates": rates.function,
            },
            rest_api=api.rest_api,
            dead_letter_queues={
                "ingest": ingest.dead_letter_queue,
                "ingest-batches": ingest.batches_dead_letter_queue,
                "email-delivery": messaging.delivery_failures,
                "alerts": alerts.dead_letter_queue,
                "alerts-fan-out": alerts.fan_out_dead_letter_queue,
                "reports": reports.dead_letter_queue,
                "reports-jobs": reports.jobs_dead_letter_queue,
                "inventory": inventory.dead_letter_queue,
                "rates": rates.dead_letter_queue,
            },
            tables=data.tables,
            work_queues={"ingest-batches": ingest.batches_queue},
            runbook_url=config.runbook_url,
            metric_alarms={
                "alerts-emails-deferred": MetricAlarm(
                    alerts.metric("EmailsDeferred", period=Duration.days(1)),
                    "Alert emails were deferred in the last day (the per-run cap was reached "
                    "or SES refused them); they go out with the next runs, oldest first.",
                )
            },
            metric_graphs={
                "Alert emails (per hour)": [
                    alerts.metric(name, period=Duration.hours(1))
                    for name in ("EmailsSent", "EmailsDeferred", "EmailsFailed", "DigestsSent")
                ],
                "Alerts: users and other channels (per hour)": [
                    alerts.metric(name, period=Duration.hours(1))
                    for name in ("AlertsEvaluatedUsers", "AdminAlerts", "WebhooksFailed")
                ],
            },
        )

        self._output(outputs.API_URL, api.url, "Base URL of the API (paths start with /api)")
        self._output(outputs.DASHBOARD_URL, dashboard.origin, "The dashboard")
        self._output(outputs.DASHBOARD_BUCKET, dashboard.bucket.bucket_name, "Dashboard files")
        self._output(
            outputs.DASHBOARD_DISTRIBUTION_ID,
            dashboard.distribution.distribution_id,
            "CloudFront distribution to invalidate after a dashboard upload",
        )
        self._output(outputs.USER_POOL_ID, auth.user_pool.user_pool_id, "Cognito user pool")
        self._output(
            outputs.USER_POOL_CLIENT_ID,
            auth.dashboard_client.user_pool_client_id,
            "App client the dashboard signs in with",
        )
        self._output(outputs.EXPORT_BUCKET, storage.exports.bucket_name, "FOCUS export bucket")
        self._output(
            outputs.EVENT_BUS_NAME, domain_events.event_bus.event_bus_name, "Domain events"
        )
        self._output(
            outputs.ADMIN_ALERTS_TOPIC_ARN, messaging.admin_alerts.topic_arn, "Admin alerts"
        )
        self._output(
            outputs.OPERATIONS_TOPIC_ARN, messaging.operations.topic_arn, "Operations alarms"
        )
        self._output(outputs.API_FUNCTION_NAME, api.function.function_name, "API function")
        self._output(
            outputs.PAGE_TOKEN_SECRET_ARN,
            api.page_token_secret.secret_arn,
            "Pagination token keys (rotating them: docs/deploy.md)",
        )
        if payments is not None:
            self._output(
                outputs.STRIPE_SECRET_ARN,
                payments.secret.secret_arn,
                "Stripe keys, set by the operator (docs/deploy.md)",
            )
        self._output(outputs.INGEST_FUNCTION_NAME, ingest.function.function_name, "Ingest function")
        self._output(
            outputs.INGEST_DEAD_LETTER_QUEUE_URL,
            ingest.dead_letter_queue.queue_url,
            "Failed ingest runs",
        )
        self._output(
            outputs.INGEST_WORKER_FUNCTION_NAME, ingest.worker.function_name, "Ingest workers"
        )
        self._output(
            outputs.INGEST_BATCHES_QUEUE_URL, ingest.batches_queue.queue_url, "Ingest batches"
        )
        self._output(
            outputs.INGEST_BATCHES_DEAD_LETTER_QUEUE_URL,
            ingest.batches_dead_letter_queue.queue_url,
            "Ingest batches that failed three times",
        )
        self._output(
            outputs.INGEST_WORK_BUCKET, ingest.work_bucket.bucket_name, "Ingest runs' partitions"
        )
        self._output(
            outputs.INVENTORY_FUNCTION_NAME, inventory.function.function_name, "Estate inventory"
        )
        self._output(
            outputs.INVENTORY_ROLE_ARN,
            inventory.role.role_arn,
            "Estate inventory's role: the principal another account's read role trusts",
        )
        self._output(
            outputs.MANAGEMENT_FUNCTION_NAME,
            management.function.function_name,
            "Estate management actions",
        )
        self._output(
            outputs.RATES_FUNCTION_NAME, rates.function.function_name, "Daily exchange rates"
        )
        self._output(outputs.ALERTS_FUNCTION_NAME, alerts.function.function_name, "Alerts function")
        self._output(outputs.ALERTS_QUEUE_URL, alerts.queue.queue_url, "Alerts fan-out queue")
        self._output(
            outputs.ALERTS_DEAD_LETTER_QUEUE_URL,
            alerts.dead_letter_queue.queue_url,
            "Alert events that failed after every retry",
        )
        self._output(
            outputs.ALERTS_FAN_OUT_DEAD_LETTER_QUEUE_URL,
            alerts.fan_out_dead_letter_queue.queue_url,
            "Users the alerts fan-out could not evaluate",
        )
        self._output(
            outputs.SES_CONFIGURATION_SET,
            alerts.configuration_set.configuration_set_name,
            "SES configuration set of alert emails (bounces and complaints)",
        )
        self._output(
            outputs.UNSUBSCRIBE_SECRET_ARN,
            alerts.unsubscribe_secret.secret_arn,
            "Unsubscribe link keys (rotating them: docs/deploy.md)",
        )
        self._output(
            outputs.REPORTS_FUNCTION_NAME, reports.function.function_name, "Reports function"
        )
        self._output(outputs.REPORTS_QUEUE_URL, reports.queue.queue_url, "Export and invoice jobs")
        self._output(
            outputs.REPORTS_DEAD_LETTER_QUEUE_URL,
            reports.dead_letter_queue.queue_url,
            "Reports events (recommendations refresh) that failed after every retry",
        )
        self._output(
            outputs.REPORTS_JOBS_DEAD_LETTER_QUEUE_URL,
            reports.jobs_dead_letter_queue.queue_url,
            "Export and invoice job messages the reports function could not take",
        )
        self._output(
            outputs.ACCESS_MIGRATION_FUNCTION_NAME,
            access_migration.function.function_name,
            "Access migration function (run by a trigger on deploy)",
        )
        self._output(
            outputs.MONITORING_DASHBOARD_NAME,
            monitoring.dashboard.dashboard_name,
            "CloudWatch dashboard",
        )
        for spec in ALL_TABLES:
            self._output(
                outputs.table_name(spec),
                data.tables[spec.key].table_name,
                f"DynamoDB table '{spec.key}' ({spec.env_var})",
            )

    def _output(self, output_id: str, value: str, description: str) -> None:
        CfnOutput(self, output_id, value=value, description=description)

    def _dashboard_web_acl(self, config: TallyConfig) -> str | None:
        """The CLOUDFRONT-scope web ACL in front of the dashboard: the one the context names,
        else with ``enableWaf`` the stack's own when it is deployed in us-east-1 (the only
        region such an ACL can be made in), else none, with a warning saying why."""
        if config.dashboard_web_acl_arn:
            return config.dashboard_web_acl_arn
        if not config.enable_waf:
            return None
        if Token.is_unresolved(self.region) or self.region != CLOUDFRONT_WAF_REGION:
            Annotations.of(self).add_warning_v2(
                DASHBOARD_WITHOUT_WAF_WARNING,
                "enableWaf protects the API only: the dashboard's CloudFront web ACL can only "
                f"be made in {CLOUDFRONT_WAF_REGION}, and this stack is not deployed there. "
                "Make one there and name it with -c dashboardWebAclArn=... (docs/deploy.md).",
            )
            return None
        acl = waf.web_acl(
            self,
            "DashboardWebAcl",
            waf_scope="CLOUDFRONT",
            metric_name="tally-dashboard",
            rate_limit=config.waf_rate_limit,
            managed_rules=waf.DASHBOARD_MANAGED_RULES,
        )
        return acl.attr_arn
