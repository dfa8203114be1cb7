"""The inventory's refresh: read one (region, family) from AWS and make the estate cache hold
exactly that (``EstateStore.replace``), or re-read one resource by name.

IAM is global: it is read through the first configured region's endpoint and cached under the
region ``global``, users (``user#<name>``) and the account's groups (``group#<name>``) in one
scope. Metrics read the functions the Lambda refresh cached (no second
ListFunctions) over the last ``METRIC_WINDOW`` ending at the minute of ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tally.estate import readers
from tally.estate.clients import EstateClients
from tally.estate.models import (
    EstateRecord,
    EstateScope,
    Family,
    FunctionMetrics,
    IamGroup,
    IamUser,
    LambdaFunction,
    Network,
    to_document,
)
from tally.store.estate import EstateStore

GLOBAL = "global"
METRIC_WINDOW = timedelta(days=7)
# Record keys: <kind>#<name or id>, so one scope can hold several kinds (the network).
NETWORK_KINDS: dict[str, tuple[str, str]] = {
    # Network field -> (record kind, the model's id field)
    "vpcs": ("vpc", "vpc_id"),
    "subnets": ("subnet", "subnet_id"),
    "route_tables": ("route-table", "route_table_id"),
    "internet_gateways": ("internet-gateway", "gateway_id"),
    "nat_gateways": ("nat-gateway", "gateway_id"),
    "endpoints": ("endpoint", "endpoint_id"),
    "peerings": ("peering", "peering_id"),
    "addresses": ("address", "public_ip"),
    "security_groups": ("security-group", "group_id"),
}


@dataclass(frozen=True)
class Refreshed:
    scope: EstateScope
    records: int
    deleted: int


def scope_of(account: str, region: str, family: Family) -> EstateScope:
    return EstateScope(account, GLOBAL if family == "iam" else region, family)


def _record(kind: str, name: str, model: Any, now: datetime) -> EstateRecord:
    return EstateRecord(f"{kind}#{name}", to_document(model), now)


def function_record(f: LambdaFunction, now: datetime) -> EstateRecord:
    return _record("function", f.name, f, now)


def user_record(u: IamUser, now: datetime) -> EstateRecord:
    return _record("user", u.name, u, now)


def group_record(g: IamGroup, now: datetime) -> EstateRecord:
    """An IAM group, in the users' scope (``group#<name>``): the IAM view reads both at once."""
    return _record("group", g.name, g, now)


def metrics_record(m: FunctionMetrics, now: datetime) -> EstateRecord:
    return _record("metrics", m.function, m, now)


def network_records(network: Network, now: datetime) -> list[EstateRecord]:
    return [
        _record(kind, str(getattr(model, id_field)), model, now)
        for field_name, (kind, id_field) in NETWORK_KINDS.items()
        for model in getattr(network, field_name)
    ]


def metric_window(now: datetime) -> tuple[datetime, datetime]:
    end = now.replace(second=0, microsecond=0)
    return end - METRIC_WINDOW, end


def refresh(
    clients: EstateClients,
    store: EstateStore,
    *,
    account: str,
    region: str,
    family: Family,
    now: datetime,
    name: str | None = None,
) -> Refreshed:
    """Re-read ``family`` in ``region`` (or the one resource ``name``) into the cache. The
    network is always re-read whole: its subnets' public/private needs every route table."""
    scope = scope_of(account, region, family)
    if name is not None and family != "network":
        return _refresh_one(clients, store, scope, region, family, name, now)
    if family == "lambda":
        records = [function_record(f, now) for f in readers.read_functions(clients, region)]
    elif family == "network":
        records = network_records(readers.read_network(clients, region), now)
    elif family == "iam":
        users, groups = readers.read_account_iam(clients, region)
        records = [user_record(u, now) for u in users] + [group_record(g, now) for g in groups]
    else:
        functions = [r.document["name"] for r in store.list(scope_of(account, region, "lambda"))]
        start, end = metric_window(now)
        records = [
            metrics_record(m, now)
            for m in readers.read_function_metrics(clients, region, functions, start, end)
        ]
    deleted = store.replace(scope, records)
    return Refreshed(scope, len(records), deleted)


def _refresh_one(
    clients: EstateClients,
    store: EstateStore,
    scope: EstateScope,
    region: str,
    family: Family,
    name: str,
    now: datetime,
) -> Refreshed:
    record: EstateRecord | None
    if family == "lambda":
        function = readers.read_function(clients, region, name)
        record, key = (function_record(function, now) if function else None), f"function#{name}"
    elif family == "iam":
        user = readers.read_user(clients, region, name)
        record, key = (user_record(user, now) if user else None), f"user#{name}"
    else:
        start, end = metric_window(now)
        (metrics,) = readers.read_function_metrics(clients, region, [name], start, end)
        record, key = metrics_record(metrics, now), f"metrics#{name}"
    if record is None:
        store.delete(scope, key)
        return Refreshed(scope, 0, 1)
    store.put(scope, record)
    return Refreshed(scope, 1, 0)
