"""The inventory's AWS clients: one seam (``EstateClients``) that hands out a client per
service and region, and counts the calls made through it.

Cross-account: when ``role_arn`` is set (``TALLY_ESTATE_ROLE_ARN``), the factory assumes that
read-only role once and builds every client from its temporary credentials, so the same
readers read another account: the role ``infra/estate_read_role.py`` deploys there, holding
exactly the inventory's read actions (``estate_read_policy`` in ``infra/constructs/inventory.py``).
Tested against moto (tests/estate/test_inventory_handler.py), one account at a time.

Every List/Describe goes through ``pages`` (a boto3 paginator: each page is one call) or
``call`` (one call), which count per (region, service:operation): the bench reports calls per
region from ``CallCounter.by_region``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class CallCounter:
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, region: str, operation: str) -> None:
        self.counts[(region, operation)] += 1

    def by_region(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for (region, _), n in self.counts.items():
            out[region] += n
        return dict(out)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class EstateClients(Protocol):
    counter: CallCounter

    def client(self, service: str, region: str) -> Any: ...


class Boto3EstateClients:
    """boto3 clients, one per (service, region), made on first use and kept."""

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        role_arn: str | None = None,
        session_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.counter = CallCounter()
        self._endpoint_url = endpoint_url
        self._role_arn = role_arn
        self._session_factory = session_factory
        self._session: Any = None
        self._clients: dict[tuple[str, str], Any] = {}

    def _boto_session(self) -> Any:
        if self._session is None:
            import boto3

            base = self._session_factory() if self._session_factory else boto3.Session()
            if self._role_arn:
                sts = base.client("sts", endpoint_url=self._endpoint_url)
                credentials = sts.assume_role(
                    RoleArn=self._role_arn, RoleSessionName="tally-inventory"
                )["Credentials"]
                base = boto3.Session(
                    aws_access_key_id=credentials["AccessKeyId"],
                    aws_secret_access_key=credentials["SecretAccessKey"],
                    aws_session_token=credentials["SessionToken"],
                )
            self._session = base
        return self._session

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self._boto_session().client(
                service, region_name=region, endpoint_url=self._endpoint_url
            )
        return self._clients[key]


def _operation(client: Any, name: str) -> str:
    return f"{client.meta.service_model.service_name}:{name}"


def pages(
    clients: EstateClients, region: str, service: str, name: str, **kwargs: Any
) -> Iterator[Any]:
    """Each page of a paginated List/Describe, counting one call per page."""
    client = clients.client(service, region)
    for page in client.get_paginator(name).paginate(**kwargs):
        clients.counter.add(region, _operation(client, name))
        yield page


def call(clients: EstateClients, region: str, service: str, name: str, **kwargs: Any) -> Any:
    """One counted call of an operation AWS does not paginate."""
    client = clients.client(service, region)
    clients.counter.add(region, _operation(client, name))
    return getattr(client, name)(**kwargs)
