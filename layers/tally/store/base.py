"""What every aggregate's store module builds on: the keyed base items, binding items to
their tables, the DynamoDB store base (transactions, pages) and the in-memory pager.

Table names and the endpoint are bound at run time (``bind_items``), never at import, so
tests and tools can import the store modules without AWS settings.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from threading import Lock
from typing import Any, ClassVar, TypeVar

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from tally import tables
from tally.models import Page
from tally.settings import Settings
from tally.store import PageKey

T = TypeVar("T")


# One botocore DynamoDB client per endpoint and client settings, for the whole process.
# pynamodb makes a botocore session and a client per connection: per item class (a dozen
# tables) and per transaction, each a few tens of milliseconds of a request's or a cold
# start's time. Clients are thread-safe; pynamodb uses the one it is given (``_client``).
_CLIENTS: dict[Hashable, Any] = {}
_CLIENTS_LOCK = Lock()


def shared_client(connection: Connection) -> Connection:
    """``connection`` using the process's client for its endpoint and settings."""
    if connection._client is not None or connection._extra_headers is not None:
        return connection  # its own already, or headers only its own client sends
    key = (
        connection.region,
        connection.host,
        connection._connect_timeout_seconds,
        connection._read_timeout_seconds,
        connection._max_pool_connections,
        connection._max_retry_attempts_exception,
        repr(connection._retry_configuration),
        connection._aws_access_key_id,
    )
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = connection.client  # made by pynamodb, as it would
        connection._client = client
    return connection


class StoredItem(Model):
    """Base of every item. A concrete item names its table (``spec``); ``bind_items`` gives it
    a Meta of its own for that table. Declaring ``spec`` is all it takes to be bound."""

    spec: ClassVar[tables.TableSpec]

    class Meta:
        table_name = "unbound"
        region = "us-east-1"

    @classmethod
    def _get_connection(cls) -> TableConnection:
        connection = super()._get_connection()
        if connection.connection._client is None:
            shared_client(connection.connection)
        return connection


class PartitionItem(StoredItem):
    """An item of a table keyed by ``pk`` alone (key formats: ``tally.store.keys``)."""

    pk = UnicodeAttribute(hash_key=True)


class KeyedItem(PartitionItem):
    """An item of a table keyed by ``pk`` and ``sk`` (key formats: ``tally.store.keys``)."""

    sk = UnicodeAttribute(range_key=True)


def _bound_items(base: type[StoredItem] = StoredItem) -> Iterator[type[StoredItem]]:
    for item in base.__subclasses__():
        if "spec" in vars(item):
            yield item
        yield from _bound_items(item)


def bind_items(settings: Settings) -> None:
    """Point every item class imported so far at its physical table (and at the emulator,
    locally). A store module imports every item it writes, so its store finds them bound."""
    for item in _bound_items():
        # A Meta of its own per class: the items share StoredItem's otherwise. Always derived
        # from the class's first Meta, never from the last binding's: a chain that grew by one
        # class per binding made every attribute lookup slower with each store built (tests
        # build stores per test: setup went from 0.3 s to 6 s over one module).
        unbound = vars(item).get("_unbound_meta")
        if unbound is None:
            unbound = item.Meta
            item._unbound_meta = unbound  # type: ignore[attr-defined]
        item.Meta = type(  # type: ignore[misc,assignment]
            "Meta",
            (unbound,),
            {
                "table_name": settings.table_names[item.spec.key],
                "region": settings.region,
                "host": settings.aws_endpoint_url,
            },
        )
        item._connection = None  # drop a connection bound to a previous table or endpoint


class DynamoStore:
    """Base of the DynamoDB stores: binds the items, opens transactions."""

    def __init__(self, settings: Settings) -> None:
        bind_items(settings)
        self._settings = settings

    def _tx(self) -> TransactWrite:
        return TransactWrite(
            connection=shared_client(
                Connection(region=self._settings.region, host=self._settings.aws_endpoint_url)
            )
        )


def cancel_codes(error: TransactWriteError) -> list[str | None]:
    """The cancellation reason of each write of a failed transaction, in pynamodb's order."""
    return [r.code if r else None for r in (error.cancellation_reasons or [])]


def page(items: list[T], iterator: Any) -> Page[T]:
    """A page of a pynamodb query: the next key is where DynamoDB stopped."""
    return Page(items=items, next_key=iterator.last_evaluated_key)


def paginate(
    items: list[T], limit: int, start_key: PageKey | None, key_of: Callable[[T], Hashable]
) -> Page[T]:
    """The in-memory stores' pages of an ordered list: the key is the last item's
    ``key_of``, which must be unique in the list."""
    start = 0
    if start_key is not None:
        after = start_key["after"]
        start = next((n + 1 for n, i in enumerate(items) if key_of(i) == after), len(items))
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    return Page(items=chunk, next_key={"after": key_of(chunk[-1])} if more and chunk else None)
