"""Alarms to the operations topic and one CloudWatch dashboard for the whole system."""

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

PERIOD = Duration.minutes(5)
# 5XXError's average is the share of requests that failed; with few users one failure in a
# handful of requests is worth a look anyway.
API_SERVER_ERROR_RATE = 0.01
API_LATENCY_P90_MS = 3000


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
        metric_alarms: Mapping[str, MetricAlarm] | None = None,
        metric_graphs: Mapping[str, Sequence[cloudwatch.IMetric]] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._prefix = Stack.of(self).stack_name
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
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            _construct_id(name),
            alarm_name=f"{self._prefix}-{name}",
            alarm_description=description,
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


def _construct_id(name: str) -> str:
    return "".join(part.title() for part in name.replace("_", "-").split("-")) + "Alarm"


def _graph(title: str, metrics: list[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=metrics, width=8, height=6)
