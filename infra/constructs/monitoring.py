"""Alarms to the operations topic and one CloudWatch dashboard for the whole system.

Every alarm's description ends with its runbook link: ``<runbook_url>#<section>``, a section
of docs/operations.md (tests/infra/test_monitoring.py checks that each one exists).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.names import METRICS_NAMESPACE

PERIOD = Duration.minutes(5)
# 5XXError's average is the share of requests that failed; with few users one failure in a
# handful of requests is worth a look anyway.
API_SERVER_ERROR_RATE = 0.01
API_LATENCY_P90_MS = 3000
# Cost Explorer is about a day behind; two days without newer costs means the source stopped.
INGEST_LAG_HOURS = 48
# The ingest fan-out's workers (infra/constructs/ingest.py) and the period of their alarm: one
# failed attempt at a partition in an hour is worth a look (a retry may still save it; the
# dead-letter alarm says when none did).
INGEST_WORKER_SERVICE = "ingest-worker"
INGEST_BATCH_FAILURES_PERIOD = Duration.hours(1)
# The runbook sections shared by alarms of one kind (the others have a section of their own,
# named like the alarm).
FUNCTION_THROTTLES_RUNBOOK = "function-throttles"
TABLE_THROTTLES_RUNBOOK = "table-throttles"
# The API's own metrics per route (functions/api/telemetry.py) and its service dimension.
API_SERVICE = "tally-api"
ROUTE_DIMENSION = "route"


def service_metric(
    service: str, name: str, *, period: Duration, statistic: str = "Sum", label: str | None = None
) -> cloudwatch.Metric:
    """One of a function's own metrics (EMF through Powertools: namespace and ``service``)."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": f"tally-{service}"},
        statistic=statistic,
        period=period,
        label=label,
    )


def per_route(name: str, statistic: str) -> cloudwatch.MathExpression:
    """The API's metric ``name`` for every route that has reported it (one line per route
    template: the dimension's values are found at view time, not listed here)."""
    schema = f"{{{METRICS_NAMESPACE},{ROUTE_DIMENSION},service}}"
    query = f'{schema} service="{API_SERVICE}" MetricName="{name}"'
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{query}', '{statistic}', {int(PERIOD.to_seconds())})",
        using_metrics={},
        label="",
        period=PERIOD,
    )


@dataclass(frozen=True)
class MetricAlarm:
    """An alarm on one of the functions' own metrics: raised when the metric reaches
    ``threshold`` in ``metric``'s period."""

    metric: cloudwatch.IMetric
    description: str
    threshold: float = 1


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarm_topic: sns.ITopic,
        functions: Mapping[str, lambda_.IFunction],
        rest_api: apigateway.RestApi,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        tables: Mapping[str, dynamodb.ITableV2],
        work_queues: Mapping[str, sqs.IQueue] | None = None,
        metric_alarms: Mapping[str, MetricAlarm] | None = None,
        metric_graphs: Mapping[str, Sequence[cloudwatch.IMetric]] | None = None,
        runbook_url: str = "docs/operations.md",
    ) -> None:
        super().__init__(scope, construct_id)
        self._prefix = Stack.of(self).stack_name
        self._runbook_url = runbook_url
        self._action = actions.SnsAction(alarm_topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        for name, function in functions.items():
            self._alarm(
                f"{name}-errors",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=1,
                description=f"The {name} function failed (for ingest: a run failed).",
            )
            self._alarm(
                f"{name}-throttles",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                threshold=1,
                description=f"Lambda throttled the {name} function (account concurrency).",
                runbook=FUNCTION_THROTTLES_RUNBOOK,
            )

        self._alarm(
            "api-5xx-rate",
            rest_api.metric_server_error(period=PERIOD, statistic="Average"),
            threshold=API_SERVER_ERROR_RATE,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            description="More than 1% of API requests answered 5XX in 2 of the last 3 periods.",
        )
        self._alarm(
            "api-latency-p90",
            rest_api.metric_latency(period=PERIOD, statistic="p90"),
            threshold=API_LATENCY_P90_MS,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
            description="The API's p90 latency stayed above 3 s for 15 minutes.",
        )
        for name, queue in dead_letter_queues.items():
            self._alarm(
                f"{name}-dead-letters",
                queue.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum"
                ),
                threshold=1,
                description=f"Messages wait in the {name} dead-letter queue.",
            )
        self._alarm(
            "ingest-lag",
            service_metric("ingest", "IngestLag", period=Duration.days(1), statistic="Maximum"),
            threshold=INGEST_LAG_HOURS * 3600,
            description=(
                f"The newest costs ingested are over {INGEST_LAG_HOURS} hours old: the cost "
                "source delivered nothing newer."
            ),
        )
        self._alarm(
            "ingest-batch-failures",
            service_metric(
                INGEST_WORKER_SERVICE, "IngestBatchFailures", period=INGEST_BATCH_FAILURES_PERIOD
            ),
            threshold=1,
            description=(
                "An ingest worker failed on a partition in the last hour; SQS retries it, and "
                "after 3 attempts it waits in the ingest-batches dead-letter queue."
            ),
        )
        for name, spec in (metric_alarms or {}).items():
            self._alarm(name, spec.metric, threshold=spec.threshold, description=spec.description)
        for key, table in tables.items():
            self._alarm(
                f"table-{key}-throttles",
                cloudwatch.MathExpression(
                    expression="reads + writes",
                    using_metrics={
                        "reads": table.metric("ReadThrottleEvents", period=PERIOD, statistic="Sum"),
                        "writes": table.metric(
                            "WriteThrottleEvents", period=PERIOD, statistic="Sum"
                        ),
                    },
                    label=f"{key} throttle events",
                    period=PERIOD,
                ),
                threshold=1,
                description=f"DynamoDB throttled requests to the {key} table.",
                runbook=TABLE_THROTTLES_RUNBOOK,
            )

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{self._prefix}-operations",
            default_interval=Duration.days(7),
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=list(self.alarms.values()), width=24, height=4
            )
        )
        self.dashboard.add_widgets(
            _graph("API requests", [rest_api.metric_count(period=PERIOD, statistic="Sum")]),
            _graph(
                "API errors",
                [
                    rest_api.metric_client_error(period=PERIOD, statistic="Sum"),
                    rest_api.metric_server_error(period=PERIOD, statistic="Sum"),
                ],
            ),
            _graph(
                "API latency (ms)",
                [
                    rest_api.metric_latency(period=PERIOD, statistic=p)
                    for p in ("p50", "p90", "p99")
                ],
            ),
        )
        # Which routes: the same figures per route template (functions/api/telemetry.py).
        self.dashboard.add_widgets(
            # Every request records its latency once: the samples are the requests.
            _graph("API requests by route", [per_route("Latency", "SampleCount")]),
            _graph("API server errors by route", [per_route("ServerErrors", "Sum")]),
            _graph("API latency p90 by route (ms)", [per_route("Latency", "p90")]),
        )
        self.dashboard.add_widgets(
            _graph(
                "Invocations",
                [f.metric_invocations(period=PERIOD, label=n) for n, f in functions.items()],
            ),
            _graph(
                "Errors and throttles",
                [
                    metric
                    for n, f in functions.items()
                    for metric in (
                        f.metric_errors(period=PERIOD, label=f"{n} errors"),
                        f.metric_throttles(period=PERIOD, label=f"{n} throttles"),
                    )
                ],
            ),
            _graph(
                "Duration p90 (ms)",
                [
                    f.metric_duration(period=PERIOD, statistic="p90", label=n)
                    for n, f in functions.items()
                ],
            ),
        )
        day = Duration.days(1)
        self.dashboard.add_widgets(
            _graph(
                "Ingest: cost lines read, records written (per day)",
                [
                    service_metric("ingest", "IngestLines", period=day, label="lines"),
                    service_metric("ingest", "IngestRecords", period=day, label="records"),
                ],
            ),
            _graph(
                "Ingest lag: age of the newest costs (hours)",
                [
                    cloudwatch.MathExpression(
                        expression="lag / 3600",
                        using_metrics={
                            "lag": service_metric(
                                "ingest", "IngestLag", period=Duration.hours(1), statistic="Maximum"
                            )
                        },
                        label="hours",
                        period=Duration.hours(1),
                    )
                ],
            ),
            _graph(
                "Ingest: owners and restatements (per day)",
                [
                    service_metric("ingest", "IngestOwners", period=day, label="owners"),
                    service_metric("ingest", "IngestRestatements", period=day, label="restated"),
                ],
            ),
        )
        hour = Duration.hours(1)
        self.dashboard.add_widgets(
            _graph(
                "Ingest batches: partitions handled and failed attempts (per hour)",
                [
                    service_metric(INGEST_WORKER_SERVICE, "IngestBatches", period=hour),
                    service_metric(INGEST_WORKER_SERVICE, "IngestBatchFailures", period=hour),
                ],
            ),
            _graph(
                "Ingest batches: records and writes (per hour)",
                [
                    service_metric(INGEST_WORKER_SERVICE, "IngestBatchRecords", period=hour),
                    service_metric(INGEST_WORKER_SERVICE, "IngestBatchWrites", period=hour),
                ],
            ),
            # Waiting messages on the left, the oldest one's age on the right: a queue that
            # drains slowly shows on both, one the workers stopped reading on the right.
            cloudwatch.GraphWidget(
                title="Work queues: messages waiting (left), oldest message's age in s (right)",
                left=[
                    q.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label=n
                    )
                    for n, q in (work_queues or {}).items()
                ],
                right=[
                    q.metric_approximate_age_of_oldest_message(
                        period=PERIOD, statistic="Maximum", label=f"{n} oldest"
                    )
                    for n, q in (work_queues or {}).items()
                ],
                width=8,
                height=6,
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                "Dead-letter queues",
                [
                    q.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label=n
                    )
                    for n, q in dead_letter_queues.items()
                ],
            ),
            _graph(
                "DynamoDB consumed capacity",
                [
                    metric
                    for k, t in tables.items()
                    for metric in (
                        t.metric_consumed_read_capacity_units(period=PERIOD, label=f"{k} read"),
                        t.metric_consumed_write_capacity_units(period=PERIOD, label=f"{k} write"),
                    )
                ],
            ),
            _graph(
                "DynamoDB throttle events",
                [
                    t.metric(metric, period=PERIOD, statistic="Sum", label=f"{k} {metric}")
                    for k, t in tables.items()
                    for metric in ("ReadThrottleEvents", "WriteThrottleEvents")
                ],
            ),
        )
        # The functions' own metrics (the alerts' emails and messages), one graph per title.
        if metric_graphs:
            self.dashboard.add_widgets(
                *(_graph(title, list(metrics)) for title, metrics in metric_graphs.items())
            )

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        comparison: cloudwatch.ComparisonOperator = (
            cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        ),
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        runbook: str | None = None,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            _construct_id(name),
            alarm_name=f"{self._prefix}-{name}",
            alarm_description=f"{description} Runbook: {self.runbook(runbook or name)}",
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            # No traffic is not a failure.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms[name] = alarm

    def runbook(self, section: str) -> str:
        """The link to a runbook section of docs/operations.md."""
        return f"{self._runbook_url}#{section}"


def _construct_id(name: str) -> str:
    return "".join(part.title() for part in name.replace("_", "-").split("-")) + "Alarm"


def _graph(title: str, metrics: list[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=metrics, width=8, height=6)
