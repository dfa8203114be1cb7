"""The moto server and the AWS resources the CDK stack creates, rebuilt on one machine.

Everything here talks to moto over HTTP with explicit fake credentials, so nothing in this
module can reach a real AWS account whatever the caller's environment holds.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import re
import secrets
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from threading import Lock, Thread
from typing import Any

import boto3
from moto.cloudwatch.models import CloudWatchBackend, Dimension, Statistics
from moto.dynamodb.models.table import Table as DynamoTable
from moto.dynamodb.responses import DynamoResult
from moto.logs.exceptions import InvalidParameterException, ResourceNotFoundException
from moto.logs.models import LogsBackend
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from infra.names import (
    ADMIN_ALERTS_TOPIC,
    ESTATE_ALARMS_TOPIC,
    GROUP_PRECEDENCE,
    METRICS_NAMESPACE,
    OPERATIONS_TOPIC,
    PASSWORD_MIN_LENGTH,
    TEMPORARY_PASSWORD_VALIDITY_DAYS,
)
from tally.events import COSTS_INGESTED
from tally.events import SOURCE as EVENT_SOURCE
from tally.identity import check_group_name
from tally.tables import ADMIN_GROUP, ALL_TABLES, USER_GROUP, TableSpec, create_table_request

DEFAULT_REGION = "us-east-1"
DEFAULT_AWS_PORT = 5000
DEFAULT_PREFIX = "tally-local"
# moto's account: the estate cache is keyed by it (infra/local/estate.py reads it too).
LOCAL_ESTATE_ACCOUNT = "123456789012"
SENDER_EMAIL = "tally@example.com"
# The alerts function's per-run email cap, as deployed (TALLY_ALERT_EMAIL_CAP).
ALERT_EMAIL_CAP = 500
# Deliveries of one message before it moves to its dead-letter queue: the first and two
# retries, as the EventBridge rule and the SQS event source retry in AWS.
MAX_RECEIVES = 3
# moto's fake credentials; they only ever reach the moto server.
FAKE_ACCESS_KEY = "testing"
FAKE_SECRET_KEY = "testing"  # noqa: S105 - not a secret, moto's documented placeholder

ADMIN_ROLE = "admin"
USER_ROLE = "user"
ROLE_GROUPS = {ADMIN_ROLE: ADMIN_GROUP, USER_ROLE: USER_GROUP}

# The CDK user pool's policy (infra/names.py); moto enforces it on admin_set_user_password.
PASSWORD_POLICY = {
    "MinimumLength": PASSWORD_MIN_LENGTH,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": TEMPORARY_PASSWORD_VALIDITY_DAYS,
}
# As the CDK pool (requireMfa off): TOTP offered to every user, no SMS. moto hands every user
# the same TOTP secret; it checks codes only when MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP is set
# (start_moto sets it), so a wrong code is refused locally as in AWS.
MFA_CONFIGURATION = "OPTIONAL"


class PortInUse(RuntimeError):
    """A port the local stack needs is taken; the message says which variable moves it."""


def port_in_use_message(port: int, variable: str) -> str:
    return (
        f"port {port} on 127.0.0.1 is already in use (is another `make run` up?). "
        f"Stop that process or choose another port, e.g. {variable}={port + 1} make run"
    )


def use_fake_credentials(region: str = DEFAULT_REGION) -> None:
    """Point this process's boto3 at fake credentials, whatever profile the user has.

    An explicit profile makes botocore skip the environment credentials, so it is dropped too.
    """
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
    os.environ["AWS_ACCESS_KEY_ID"] = FAKE_ACCESS_KEY
    os.environ["AWS_SECRET_ACCESS_KEY"] = FAKE_SECRET_KEY
    os.environ["AWS_SESSION_TOKEN"] = FAKE_ACCESS_KEY
    os.environ["AWS_DEFAULT_REGION"] = region


class _OneDynamoDBRequestAtATime:
    """A WSGI wrapper serving DynamoDB's requests one at a time (other services stay
    concurrent). moto's TransactWriteItems copies the tables it touches, applies its items one
    by one and, when one fails, puts the copies back: without this a failed transaction undoes
    every write that landed in between (a role granted with 200 came back absent under the
    roles matrix's concurrent requests), and a read in between sees half a transaction. In AWS
    both are atomic; serialised, moto is too."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if not target.startswith("DynamoDB_"):
            return self._app(environ, start_response)
        with self._lock:
            # The body is made inside the call; materialised here, under the lock.
            return list(self._app(environ, start_response))


def _percentile(values: list[float], percent: float) -> float:
    """Nearest rank, as a percentile over raw data points is defined (CloudWatch interpolates
    over its own histogram: close enough for the emulator's few points)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")


def _statistics_with_percentiles() -> None:
    """moto's GetMetricData answers only Sum, Average, Minimum, Maximum and SampleCount; any
    other statistic comes back None and its serialiser fails the whole request with a 500
    (moto 5). CloudWatch answers percentiles (``p50``, ``p99.9``) too, and the estate's
    metrics panel asks for them (Lambda duration p50/p95/p99): the emulator computes them over
    the raw values it holds (a statistic set has none: its average stands in)."""
    original = Statistics.get_statistics_for_type
    if getattr(original, "tally_percentiles", False):
        return

    def get_statistics_for_type(self: Statistics, stat: str) -> Any:
        found = _PERCENTILE.match(stat)
        if found is None:
            return original(self, stat)
        values = self.metric_single_values_list
        if values:
            return _percentile(values, float(found.group(1)))
        count = self.calc_sample_count()
        # No raw values (statistic sets): their average stands in; none at all answers 0.
        return self.calc_sum() / count if count else 0.0

    get_statistics_for_type.tally_percentiles = True  # type: ignore[attr-defined]
    Statistics.get_statistics_for_type = get_statistics_for_type  # type: ignore[method-assign]


_statistics_with_percentiles()


class _OnlyTheseMetrics:
    """A CloudWatch backend seen through one query: ``get_all_metrics`` holds only that
    metric's datums, everything else is the backend's."""

    def __init__(self, backend: CloudWatchBackend, metrics: list[Any]) -> None:
        self._backend = backend
        self._metrics = metrics

    def get_all_metrics(self) -> list[Any]:
        return self._metrics

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


# Periods per slice of a query's range (see _in_slices).
_SLICE_PERIODS = 48


def _in_slices(
    original: Any,
    backend: CloudWatchBackend,
    query: dict[str, Any],
    mine: list[Any],
    start_time: Any,
    end_time: Any,
    scan_by: str,
) -> list[dict[str, Any]]:
    """One query's answer from moto, asked slice by slice of its range: moto looks through
    every datum of the range for each period (a 30-day panel at hourly periods: 720 periods x
    720 datums a metric, ~50 ms each), a slice's periods only through the slice's datums.
    Slices start on the query's period boundaries (from the start, as moto counts them) and
    moto counts a datum in [period start, period end), so every period falls in one slice with
    every datum it had; the answer is the same values and timestamps, in the order asked."""
    start_time = start_time.replace(microsecond=0)
    end_time = end_time.replace(microsecond=0)
    # Its id, label and status as moto answers them (or nothing, for ReturnData false).
    shell = original(_OnlyTheseMetrics(backend, []), [query], start_time, end_time, scan_by)
    if not shell or start_time >= end_time:
        return original(_OnlyTheseMetrics(backend, mine), [query], start_time, end_time, scan_by)  # type: ignore[no-any-return]
    step = timedelta(seconds=int(query["MetricStat"]["Period"]) * _SLICE_PERIODS)
    values: list[Any] = []
    timestamps: list[Any] = []
    at = start_time
    while at < end_time:
        upto = min(at + step, end_time)
        inside = [md for md in mine if at <= md.timestamp < upto]
        if inside:
            (part,) = original(
                _OnlyTheseMetrics(backend, inside), [query], at, upto, "TimestampAscending"
            )
            values += part["values"]
            timestamps += part["timestamps"]
        at = upto
    if scan_by == "TimestampDescending":
        values.reverse()
        timestamps.reverse()
    return [{**shell[0], "values": values, "timestamps": timestamps}]


def _metric_data_one_metric_at_a_time() -> None:
    """moto's GetMetricData scans every datum the region holds for every period of every
    query: a 30-day panel of 7 queries at hourly periods over the demo's ~8,000 datums took
    15-25 s a call, and the browser tests' function detail timed out. Each query (when all are
    plain MetricStat queries, no metric math) now sees only its own metric's datums, which
    moto filters exactly as before, a slice of its range at a time (_in_slices); the answers
    are the same, only sooner."""
    original = CloudWatchBackend.get_metric_data
    if getattr(original, "tally_one_metric", False):
        return

    def get_metric_data(
        self: CloudWatchBackend,
        queries: list[dict[str, Any]],
        start_time: Any,
        end_time: Any,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        if not queries or any("MetricStat" not in q for q in queries):
            return original(self, queries, start_time, end_time, scan_by)
        every = self.get_all_metrics()
        out: list[dict[str, Any]] = []
        for query in queries:
            metric = query["MetricStat"]["Metric"]
            # And only its resource's (moto matches the dimensions exactly, as CloudWatch):
            # a function's panel no longer scans every function's datums period by period.
            wanted = sorted(
                Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions") or []
            )
            mine = [
                md
                for md in every
                if md.namespace == metric["Namespace"]
                and md.name == metric["MetricName"]
                and (not wanted or sorted(md.dimensions) == wanted)
            ]
            out += _in_slices(original, self, query, mine, start_time, end_time, scan_by)
        return out

    get_metric_data.tally_one_metric = True  # type: ignore[attr-defined]
    get_metric_data.tally_moto = original  # type: ignore[attr-defined]  # moto's own, for tests
    CloudWatchBackend.get_metric_data = get_metric_data  # type: ignore[method-assign]


_metric_data_one_metric_at_a_time()


class _OnePartition:
    """A DynamoDB table seen through one query on its own keys: ``all_items`` holds only the
    query's partition, in range-key order, already narrowed to the key condition on the range
    key (which moto then checks again); everything else is the table's."""

    def __init__(self, table: DynamoTable, hash_key: Any, comparison: str | None, objs: Any):
        self._table = table
        self._hash_key = hash_key
        self._comparison = comparison
        self._objs = objs

    def all_items(self) -> list[Any]:
        partition = self._table.items.get(self._hash_key) or {}
        items = sorted(partition.values(), key=lambda item: item.range_key)
        if self._comparison:
            items = [i for i in items if i.range_key.compare(self._comparison, self._objs)]
        return items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


class _OneIndexPartition:
    """A DynamoDB table seen through one query of a global index whose hash key is one
    attribute: ``all_items`` holds only the items with that attribute's value, found by
    comparing raw values (moto sorts every item of the table, then compares each through
    ``DynamoType``'s casting equality; everything after that is moto's own)."""

    def __init__(self, table: DynamoTable, attribute: str, hash_key: Any):
        self._table = table
        self._attribute = attribute
        self._hash_key = hash_key

    def all_items(self) -> list[Any]:
        # The partitions as stored, not the table's all_items (which sorts every item first):
        # moto sorts what is found by the index's keys, then the table's, afterwards.
        table, name, wanted = self._table, self._attribute, self._hash_key
        stored: Iterable[Any] = (
            (i for partition in table.items.values() for i in partition.values())
            if table.range_key_attr
            else table.items.values()
        )
        return [
            item
            for item in stored
            for value in [item.attrs.get(name)]
            if value is not None and value.type == wanted.type and value.value == wanted.value
        ]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _index_hash_attribute(table: DynamoTable, index_name: str) -> str | None:
    """The one hash key attribute of a global index of ``table``, or None (a local index, a
    multi-attribute key, an unknown index: moto's own path, and its own errors)."""
    for index in table.global_indexes:
        if index.name == index_name:
            hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
            return hashes[0] if len(hashes) == 1 else None
    return None


def _query_one_partition() -> None:
    """moto's Query on a table's own keys sorts every item of the table by its keys, then
    keeps the partition asked for: on the demo's costs table (every owner's lines and the
    organisation's) one 60-day read of the organisation's lines took 2.9 s, and the DynamoDB
    lock above queues every other request behind it (a Lambda function's page waited ~5 s for
    its first chart). It now reads the one partition, as DynamoDB does; the answers, their
    order, pages and sizes are moto's own. Index queries and tables without a range key are
    moto's unchanged. A global index's Query likewise looks only at the items with its hash
    key's value (one resource's cost lines: 70 ms of compares and sorting over every line of
    the demo's table before)."""
    original = DynamoTable.query
    if getattr(original, "tally_one_partition", False):
        return

    def query(
        self: DynamoTable,
        hash_key: Any,
        range_comparison: str | None,
        range_objs: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        index_name = args[4] if len(args) > 4 else kwargs.get("index_name")
        if index_name and hash_key is not None:
            attribute = _index_hash_attribute(self, index_name)
            if attribute is not None:
                one_key = _OneIndexPartition(self, attribute, hash_key)
                return original(one_key, hash_key, range_comparison, range_objs, *args, **kwargs)  # type: ignore[arg-type]
        if index_name or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, range_comparison, range_objs, *args, **kwargs)
        seen = _OnePartition(self, hash_key, range_comparison, range_objs)
        return original(seen, hash_key, range_comparison, range_objs, *args, **kwargs)  # type: ignore[arg-type]

    query.tally_one_partition = True  # type: ignore[attr-defined]
    DynamoTable.query = query  # type: ignore[method-assign]


_query_one_partition()


# The read operations whose answers are items, in DynamoDB's JSON as moto already holds it.
_ITEM_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})


def _items_answered_as_json() -> None:
    """moto 5.2 serialises every answer through its generic, shape-walking serializer: 720
    cost lines took 3.1 s of a 3.4 s Query, most of a Lambda function's page in the local
    stack. An item read's answer is already DynamoDB's JSON (``{"S": ...}``, numbers as
    strings), so it is written with ``json.dumps`` under the protocol's content type. An
    answer the plain encoder cannot write (binary values, timestamps) goes through moto's
    serializer as before."""
    original = DynamoResult.execute_result
    if getattr(original, "tally_plain_json", False):
        return

    def execute_result(self: DynamoResult, context: Any) -> Any:
        if context.operation_model.name in _ITEM_READS and isinstance(self.result, dict):
            try:
                body = json.dumps(self.result)
            except TypeError:  # bytes or a datetime: moto's serializer knows their form
                return original(self, context)
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
        return original(self, context)

    execute_result.tally_plain_json = True  # type: ignore[attr-defined]
    DynamoResult.execute_result = execute_result  # type: ignore[method-assign,assignment]


_items_answered_as_json()


def _log_events_on_the_business_clock() -> None:
    """CloudWatch Logs takes events from the last 14 days to 2 hours ahead; moto judges that
    by the machine's clock. The local stack and the tests run on a pinned business date
    (``TALLY_TODAY``): a demo's or a test's events of "yesterday" were refused as too old two
    weeks after the date was pinned (a function's recent errors came back empty on
    2026-12-03 for a suite pinned to 2026-11-20). The window now follows ``tally.clock``, as
    everything else that asks what day it is; the rest is moto's."""
    from tally.clock import utc_now

    if getattr(LogsBackend.put_log_events, "tally_business_clock", False):
        return

    def put_log_events(
        self: LogsBackend,
        log_group_name: str,
        log_stream_name: str,
        log_events: list[dict[str, Any]],
    ) -> tuple[str, dict[str, Any]]:
        if log_group_name not in self.groups:
            raise ResourceNotFoundException()
        now = utc_now()
        oldest = int((now - timedelta(days=14)).timestamp() * 1000)
        newest = int((now + timedelta(hours=2)).timestamp() * 1000)
        rejected: dict[str, Any] = {}
        allowed = []
        last = None
        for index, event in enumerate(log_events):
            if last and last > event["timestamp"]:
                raise InvalidParameterException(
                    "Log events in a single PutLogEvents request must be in chronological order."
                )
            if event["timestamp"] < oldest:
                rejected["tooOldLogEventEndIndex"] = index
            elif event["timestamp"] > newest:
                rejected["tooNewLogEventStartIndex"] = index
            else:
                allowed.append(event)
            last = event["timestamp"]
        token = self.groups[log_group_name].put_log_events(log_stream_name, allowed)
        return token, rejected

    put_log_events.tally_business_clock = True  # type: ignore[attr-defined]
    LogsBackend.put_log_events = put_log_events  # type: ignore[method-assign]


_log_events_on_the_business_clock()


class MotoServer(ThreadedMotoServer):
    """moto's threaded server, binding its port before ``start`` returns.

    ``ThreadedMotoServer.start`` binds inside its thread and waits for an event that never
    comes when the bind fails, so a taken port would hang ``make run`` instead of failing
    with ``PortInUse``.
    """

    def start(self) -> None:
        # werkzeug turns a failed bind into print + sys.exit; binding here keeps the error.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((self._ip_address, self._port))
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    raise PortInUse(port_in_use_message(self._port, "TALLY_AWS_PORT")) from error
                raise
            listener.listen(128)
            server = make_server(
                self._ip_address,
                self._port,
                _OneDynamoDBRequestAtATime(DomainDispatcherApplication(create_backend_app)),
                threaded=True,
                request_handler=MotoRequestHandler,
                fd=listener.fileno(),  # werkzeug duplicates it; ours closes on leaving
            )
        self._server = server
        # A short poll interval keeps stop() quick (tests start and stop many servers).
        self._thread = Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="moto", daemon=True
        )
        self._thread.start()

    @property
    def endpoint_url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"


def start_moto(port: int = DEFAULT_AWS_PORT, *, quiet: bool = True) -> MotoServer:
    """Start moto on 127.0.0.1 (``port=0``: any free port); raise ``PortInUse`` if taken."""
    os.environ["MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"] = "true"
    if quiet:
        # werkzeug logs every request moto serves; the gateway's own log is what people read.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = MotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server


def aws_client(service: str, endpoint_url: str, region: str = DEFAULT_REGION) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=FAKE_ACCESS_KEY,
        aws_secret_access_key=FAKE_SECRET_KEY,
    )


@dataclass(frozen=True)
class LocalUser:
    """One row of ``users`` in ``.tally/local.json``."""

    username: str
    password: str
    role: str  # "admin" | "user": the Cognito group (finance and auditors are "user")
    user_id: str  # the Cognito ``sub``
    # What the user holds once the stack is up: (roleId, scope) of their direct grants, and
    # team-manager for each team they manage (``infra.local.stack.with_roles``).
    roles: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "password": self.password,
            "role": self.role,
            "user_id": self.user_id,
            "roles": [{"roleId": role, "scope": scope} for role, scope in self.roles],
        }


@dataclass(frozen=True)
class LocalAws:
    """The provisioned resources; ``handler_env()`` is what a Lambda function would be given."""

    endpoint_url: str
    region: str
    user_pool_id: str
    client_id: str
    table_names: Mapping[str, str]  # TableSpec.key -> table name
    exports_bucket: str
    sender_email: str
    admin_topic_arn: str
    operations_topic_arn: str
    event_bus_name: str
    page_token_secret_id: str  # ARN of the secret holding the page-token keys
    # The alerts function's wiring (infra/local/alerts.py routes it): the rule on the bus
    # delivers CostsIngested to ``alerts_events_queue_url``; the fan-out goes through
    # ``alerts_queue_url``; each has a dead-letter queue.
    alerts_events_queue_url: str
    alerts_events_dlq_url: str
    alerts_queue_url: str
    alerts_dlq_url: str
    ses_configuration_set: str
    webhook_key_id: str  # ARN of the KMS key sealing webhook URLs
    unsubscribe_secret_id: str  # ARN of the secret holding the unsubscribe signing keys
    # The reports function's wiring (infra/local/reports.py): export and invoice jobs come
    # through ``reports_queue_url``; a second rule on the bus delivers CostsIngested to
    # ``reports_events_queue_url``. Each has a dead-letter queue.
    reports_queue_url: str = ""
    reports_dlq_url: str = ""
    reports_events_queue_url: str = ""
    reports_events_dlq_url: str = ""
    # The ingest fan-out (infra/constructs/ingest.py): the coordinator writes partitions to
    # ``ingest_work_bucket`` and sends one message each to ``ingest_queue_url``, which the
    # workers read (in threads of the stack's process and of ``make ingest``).
    ingest_queue_url: str = ""
    ingest_dlq_url: str = ""
    ingest_work_bucket: str = ""
    # The topic alarms made by the estate's actions notify (issue 15).
    estate_alarm_topic_arn: str = ""

    def client(self, service: str) -> Any:
        return aws_client(service, self.endpoint_url, self.region)

    @property
    def jwks_url(self) -> str:
        return f"{self.endpoint_url}/{self.user_pool_id}/.well-known/jwks.json"

    def handler_env(self, gateway_url: str | None = None) -> dict[str, str]:
        """Environment for the handlers: the Settings variables plus fake credentials.

        ``gateway_url`` (the local gateway's origin, known once it is bound) gives the links
        the alerts put in their messages: the dashboard and the unsubscribe endpoint."""
        env = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
            "AWS_SESSION_TOKEN": FAKE_ACCESS_KEY,
            # boto3 honours AWS_ENDPOINT_URL for every client: a client created without the
            # Tally endpoint setting still lands on moto instead of a real account.
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "TALLY_AWS_ENDPOINT_URL": self.endpoint_url,
            "TALLY_PAGE_TOKEN_SECRET_ID": self.page_token_secret_id,
            "TALLY_USER_POOL_ID": self.user_pool_id,
            "TALLY_USER_POOL_CLIENT_ID": self.client_id,
            "TALLY_APP_CLIENT_IDS": self.client_id,
            "TALLY_EXPORT_BUCKET": self.exports_bucket,
            "TALLY_SENDER_EMAIL": self.sender_email,
            "TALLY_ADMIN_TOPIC_ARN": self.admin_topic_arn,
            "TALLY_OPERATIONS_TOPIC_ARN": self.operations_topic_arn,
            "TALLY_EVENT_BUS_NAME": self.event_bus_name,
            "TALLY_SES_CONFIGURATION_SET": self.ses_configuration_set,
            "TALLY_WEBHOOK_KEY_ID": self.webhook_key_id,
            "TALLY_UNSUBSCRIBE_SECRET_ID": self.unsubscribe_secret_id,
            "TALLY_ALERTS_QUEUE_URL": self.alerts_queue_url,
            "TALLY_ALERT_EMAIL_CAP": str(ALERT_EMAIL_CAP),
            # Exports and invoices: the API queues jobs, the reports function writes the
            # files under reports/ of the exports bucket.
            "TALLY_REPORTS_QUEUE_URL": self.reports_queue_url,
            "TALLY_REPORTS_BUCKET": self.exports_bucket,
            "TALLY_LOCAL_REPORTS_DLQ_URL": self.reports_dlq_url,
            "TALLY_LOCAL_REPORTS_EVENTS_QUEUE_URL": self.reports_events_queue_url,
            "TALLY_LOCAL_REPORTS_EVENTS_DLQ_URL": self.reports_events_dlq_url,
            # The ingest fan-out: both the coordinator and the workers read these (the
            # ingestruns table comes with the other tables below).
            "TALLY_INGEST_QUEUE_URL": self.ingest_queue_url,
            "TALLY_INGEST_WORK_BUCKET": self.ingest_work_bucket,
            "TALLY_LOCAL_INGEST_DLQ_URL": self.ingest_dlq_url,
            # The stack runs its own webhook receiver at http://127.0.0.1:<port>/webhooks/...;
            # only here may a webhook URL be plain http on a loopback address.
            "TALLY_WEBHOOK_ALLOW_LOOPBACK": "true",
            # Not the handlers': where the local routing (infra/local/alerts.py) polls.
            "TALLY_LOCAL_ALERTS_EVENTS_QUEUE_URL": self.alerts_events_queue_url,
            "TALLY_LOCAL_ALERTS_EVENTS_DLQ_URL": self.alerts_events_dlq_url,
            "TALLY_LOCAL_ALERTS_DLQ_URL": self.alerts_dlq_url,
            # Costs come from FOCUS files in the export bucket, as with AWS Data Exports.
            "TALLY_COST_SOURCE": "focus",
            "TALLY_EXPORT_PREFIX": "focus/",
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            # No X-Ray daemon on a laptop.
            "POWERTOOLS_TRACE_DISABLED": "true",
            # The estate's management actions (issue 15): every family on, so the demo can
            # try them (a deployment turns each on itself), run by the management and
            # inventory handlers in the API's own process (moto's Lambda needs Docker); the
            # cache is keyed by moto's account.
            "TALLY_ESTATE_ACTIONS": "all",
            "TALLY_ESTATE_ACCOUNT": LOCAL_ESTATE_ACCOUNT,
            "TALLY_ESTATE_IN_PROCESS": "true",
        }
        if self.estate_alarm_topic_arn:
            env["TALLY_ESTATE_ALARM_TOPIC_ARN"] = self.estate_alarm_topic_arn
        if gateway_url is not None:
            base = gateway_url.rstrip("/")
            env["TALLY_DASHBOARD_URL"] = f"{base}/"
            env["TALLY_API_URL"] = f"{base}/api"
            # Download links point at the gateway, which checks their expiry (moto does not).
            env["TALLY_S3_PUBLIC_ENDPOINT_URL"] = f"{base}/s3"
        for spec in ALL_TABLES:
            env[spec.env_var] = self.table_names[spec.key]
        return env

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LocalAws:
        """Rebuild from ``handler_env()`` output (e.g. in a hook or another process)."""
        return cls(
            endpoint_url=env["TALLY_AWS_ENDPOINT_URL"],
            region=env["AWS_REGION"],
            user_pool_id=env["TALLY_USER_POOL_ID"],
            client_id=env["TALLY_USER_POOL_CLIENT_ID"],
            table_names={spec.key: env[spec.env_var] for spec in ALL_TABLES},
            exports_bucket=env["TALLY_EXPORT_BUCKET"],
            sender_email=env["TALLY_SENDER_EMAIL"],
            admin_topic_arn=env["TALLY_ADMIN_TOPIC_ARN"],
            operations_topic_arn=env["TALLY_OPERATIONS_TOPIC_ARN"],
            event_bus_name=env["TALLY_EVENT_BUS_NAME"],
            page_token_secret_id=env["TALLY_PAGE_TOKEN_SECRET_ID"],
            alerts_events_queue_url=env["TALLY_LOCAL_ALERTS_EVENTS_QUEUE_URL"],
            alerts_events_dlq_url=env["TALLY_LOCAL_ALERTS_EVENTS_DLQ_URL"],
            alerts_queue_url=env["TALLY_ALERTS_QUEUE_URL"],
            estate_alarm_topic_arn=env.get("TALLY_ESTATE_ALARM_TOPIC_ARN", ""),
            alerts_dlq_url=env["TALLY_LOCAL_ALERTS_DLQ_URL"],
            ses_configuration_set=env["TALLY_SES_CONFIGURATION_SET"],
            webhook_key_id=env["TALLY_WEBHOOK_KEY_ID"],
            unsubscribe_secret_id=env["TALLY_UNSUBSCRIBE_SECRET_ID"],
            reports_queue_url=env.get("TALLY_REPORTS_QUEUE_URL", ""),
            reports_dlq_url=env.get("TALLY_LOCAL_REPORTS_DLQ_URL", ""),
            reports_events_queue_url=env.get("TALLY_LOCAL_REPORTS_EVENTS_QUEUE_URL", ""),
            reports_events_dlq_url=env.get("TALLY_LOCAL_REPORTS_EVENTS_DLQ_URL", ""),
            ingest_queue_url=env.get("TALLY_INGEST_QUEUE_URL", ""),
            ingest_dlq_url=env.get("TALLY_LOCAL_INGEST_DLQ_URL", ""),
            ingest_work_bucket=env.get("TALLY_INGEST_WORK_BUCKET", ""),
        )


def create_table(dynamodb: Any, spec: TableSpec, name: str) -> None:
    dynamodb.create_table(**create_table_request(spec, name))
    if spec.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
        )


def provision(
    endpoint_url: str,
    *,
    region: str = DEFAULT_REGION,
    prefix: str = DEFAULT_PREFIX,
    sender_email: str = SENDER_EMAIL,
) -> LocalAws:
    """Create, in the moto server at ``endpoint_url``, what the CDK stack would create.

    ``prefix`` names the tables, bucket, topics and bus; moto's state is per process, so two
    stacks in one process need two prefixes.
    """

    def client(service: str) -> Any:
        return aws_client(service, endpoint_url, region)

    dynamodb = client("dynamodb")
    table_names = {spec.key: spec.local_name(prefix) for spec in ALL_TABLES}
    for spec in ALL_TABLES:
        create_table(dynamodb, spec, table_names[spec.key])

    user_pool_id, client_id = provision_user_pool(client("cognito-idp"), prefix)

    exports_bucket = f"{prefix}-exports"
    client("s3").create_bucket(Bucket=exports_bucket)
    # The ingest fan-out's working files; no lifecycle rule: moto would keep it but expire nothing.
    ingest_work_bucket = f"{prefix}-ingest-work"
    client("s3").create_bucket(Bucket=ingest_work_bucket)

    # SES refuses to send from an unverified identity; moto verifies at once.
    client("ses").verify_email_identity(EmailAddress=sender_email)

    sns = client("sns")
    admin_topic_arn = sns.create_topic(Name=f"{prefix}-{ADMIN_ALERTS_TOPIC}")["TopicArn"]
    operations_topic_arn = sns.create_topic(Name=f"{prefix}-{OPERATIONS_TOPIC}")["TopicArn"]
    estate_alarm_topic_arn = sns.create_topic(Name=f"{prefix}-{ESTATE_ALARMS_TOPIC}")["TopicArn"]

    event_bus_name = prefix
    events = client("events")
    events.create_event_bus(Name=event_bus_name)

    sqs = client("sqs")
    events_queue_url, events_dlq_url = create_queue_pair(sqs, f"{prefix}-alerts-events")
    alerts_queue_url, alerts_dlq_url = create_queue_pair(sqs, f"{prefix}-alerts")
    # The rule the CDK stack points at the alerts function: locally its target is a queue
    # (moto delivers rule targets to SQS), which the stack's worker reads and invokes from.
    rule = f"{prefix}-costs-ingested"
    events.put_rule(
        Name=rule,
        EventBusName=event_bus_name,
        EventPattern=json.dumps({"source": [EVENT_SOURCE], "detail-type": [COSTS_INGESTED]}),
    )
    events.put_targets(
        Rule=rule,
        EventBusName=event_bus_name,
        Targets=[{"Id": "alerts", "Arn": queue_arn(sqs, events_queue_url)}],
    )

    reports_queue_url, reports_dlq_url = create_queue_pair(sqs, f"{prefix}-reports")
    reports_events_url, reports_events_dlq_url = create_queue_pair(sqs, f"{prefix}-reports-events")
    # The reports function's own rule on CostsIngested (a second one, as in the CDK stack).
    reports_rule = f"{prefix}-costs-ingested-reports"
    events.put_rule(
        Name=reports_rule,
        EventBusName=event_bus_name,
        EventPattern=json.dumps({"source": [EVENT_SOURCE], "detail-type": [COSTS_INGESTED]}),
    )
    events.put_targets(
        Rule=reports_rule,
        EventBusName=event_bus_name,
        Targets=[{"Id": "reports", "Arn": queue_arn(sqs, reports_events_url)}],
    )

    # The ingest fan-out's partitions (and "finalize"); redriven after MAX_RECEIVES as in AWS.
    ingest_queue_url, ingest_dlq_url = create_queue_pair(sqs, f"{prefix}-ingest-batches")

    ses_configuration_set = f"{prefix}-email"
    client("sesv2").create_configuration_set(ConfigurationSetName=ses_configuration_set)
    webhook_key_id = client("kms").create_key(Description="Tally: chat webhook URLs")[
        "KeyMetadata"
    ]["Arn"]

    return LocalAws(
        endpoint_url=endpoint_url,
        region=region,
        user_pool_id=user_pool_id,
        client_id=client_id,
        table_names=table_names,
        exports_bucket=exports_bucket,
        sender_email=sender_email,
        admin_topic_arn=admin_topic_arn,
        operations_topic_arn=operations_topic_arn,
        estate_alarm_topic_arn=estate_alarm_topic_arn,
        event_bus_name=event_bus_name,
        page_token_secret_id=create_page_token_secret(client("secretsmanager"), prefix),
        alerts_events_queue_url=events_queue_url,
        alerts_events_dlq_url=events_dlq_url,
        alerts_queue_url=alerts_queue_url,
        alerts_dlq_url=alerts_dlq_url,
        ses_configuration_set=ses_configuration_set,
        webhook_key_id=webhook_key_id,
        unsubscribe_secret_id=create_signing_secret(
            client("secretsmanager"),
            f"{prefix}-unsubscribe-keys",
            "Tally: HMAC keys for unsubscribe links",
        ),
        reports_queue_url=reports_queue_url,
        reports_dlq_url=reports_dlq_url,
        reports_events_queue_url=reports_events_url,
        reports_events_dlq_url=reports_events_dlq_url,
        ingest_queue_url=ingest_queue_url,
        ingest_dlq_url=ingest_dlq_url,
        ingest_work_bucket=ingest_work_bucket,
    )


def provision_user_pool(cognito: Any, prefix: str) -> tuple[str, str]:
    """The user pool the CDK stack creates (policy, MFA, groups) and the dashboard's app
    client; returns (user pool id, client id)."""
    pool = cognito.create_user_pool(
        PoolName=f"{prefix}-users",
        # Sign in with the username; email is an alias (moto stores it but only resolves
        # usernames in InitiateAuth).
        AliasAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        UsernameConfiguration={"CaseSensitive": False},
        Policies={"PasswordPolicy": PASSWORD_POLICY},
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        Schema=[
            {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}
        ],
        MfaConfiguration=MFA_CONFIGURATION,
    )["UserPool"]
    user_pool_id = pool["Id"]
    cognito.set_user_pool_mfa_config(
        UserPoolId=user_pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration=MFA_CONFIGURATION,
    )
    for group, precedence in GROUP_PRECEDENCE.items():
        create_group(cognito, user_pool_id, group, precedence)
    client_id = cognito.create_user_pool_client(
        UserPoolId=user_pool_id,
        ClientName=f"{prefix}-dashboard",
        GenerateSecret=False,  # a browser cannot keep a secret
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="ENABLED",
    )["UserPoolClient"]["ClientId"]
    return user_pool_id, client_id


def queue_arn(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def create_queue_pair(sqs: Any, name: str) -> tuple[str, str]:
    """A queue and its dead-letter queue: a message received ``MAX_RECEIVES`` times without
    being deleted moves there (moto applies the redrive policy as SQS does)."""
    dlq_url = str(sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"])
    redrive = {"deadLetterTargetArn": queue_arn(sqs, dlq_url), "maxReceiveCount": MAX_RECEIVES}
    queue_url = str(
        sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": json.dumps(redrive)})[
            "QueueUrl"
        ]
    )
    return queue_url, dlq_url


def create_page_token_secret(secretsmanager: Any, prefix: str) -> str:
    """The secret the API reads its page-token keys from, shaped as the CDK one (JSON with a
    "current" key), so the local API reads Secrets Manager exactly as it does in AWS."""
    return create_signing_secret(
        secretsmanager, f"{prefix}-page-token-keys", "Tally: HMAC keys for pagination tokens"
    )


def create_signing_secret(secretsmanager: Any, name: str, description: str) -> str:
    """A secret of HMAC keys shaped as the CDK ones (JSON with a "current" key)."""
    value = json.dumps({"current": secrets.token_urlsafe(48)})
    created = secretsmanager.create_secret(Name=name, Description=description, SecretString=value)
    return str(created["ARN"])


def create_group(cognito: Any, user_pool_id: str, name: str, precedence: int) -> None:
    """A user pool group, refused (``ValueError``) when its name could be misread in the
    groups claim API Gateway renders (see ``tally.identity.group_name_problem``)."""
    cognito.create_group(
        UserPoolId=user_pool_id, GroupName=check_group_name(name), Precedence=precedence
    )


def create_user(
    aws: LocalAws,
    username: str,
    password: str,
    *,
    role: str = USER_ROLE,
    email: str | None = None,
    extra_groups: Sequence[str] = (),
) -> str:
    """Create a confirmed user with a permanent password in the role's group; return its sub.

    ``role`` is "admin" (group ``admins``) or "user" (group ``users``). The password must meet
    the pool's policy (12+ characters, upper, lower, digit, symbol).
    """
    if role not in ROLE_GROUPS:
        raise ValueError(f"role must be one of {sorted(ROLE_GROUPS)}, not {role!r}")
    cognito = aws.client("cognito-idp")
    created = cognito.admin_create_user(
        UserPoolId=aws.user_pool_id,
        Username=username,
        UserAttributes=[
            {"Name": "email", "Value": email or f"{username}@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
        MessageAction="SUPPRESS",
    )["User"]
    # Without a permanent password the first sign-in meets NEW_PASSWORD_REQUIRED.
    cognito.admin_set_user_password(
        UserPoolId=aws.user_pool_id, Username=username, Password=password, Permanent=True
    )
    for group in (ROLE_GROUPS[role], *extra_groups):
        cognito.admin_add_user_to_group(
            UserPoolId=aws.user_pool_id, Username=username, GroupName=group
        )
    return next(a["Value"] for a in created["Attributes"] if a["Name"] == "sub")


def add_user(
    aws: LocalAws,
    username: str,
    password: str,
    *,
    role: str = USER_ROLE,
    email: str | None = None,
) -> LocalUser:
    """``create_user``, returning the ``local.json`` row."""
    user_id = create_user(aws, username, password, role=role, email=email)
    return LocalUser(username=username, password=password, role=role, user_id=user_id)
