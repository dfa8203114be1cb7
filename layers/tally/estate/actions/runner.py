"""Where the API's actions run (``ActionRunner``): the management and inventory functions,
invoked synchronously through Lambda, or (the local stack and tests, where moto's Lambda
would need Docker) their handlers' ``run`` in this process, with the same code and
settings read from this process's environment."""

from __future__ import annotations

import json
from typing import Any

from tally.estate.actions.settings import ActionSettings


class InvocationFailed(RuntimeError):
    """The function raised (Lambda's FunctionError): a 500, logged."""


class LambdaRunner:
    def __init__(self, client: Any, settings: ActionSettings) -> None:
        self._client = client
        self._settings = settings

    def _invoke(self, function: str | None, payload: dict[str, Any]) -> dict[str, Any]:
        if not function:
            raise InvocationFailed("no function is configured for this action")
        reply = self._client.invoke(
            FunctionName=function,
            InvocationType="RequestResponse",
            Payload=json.dumps(payload).encode(),
        )
        body = reply["Payload"].read()
        if reply.get("FunctionError"):
            raise InvocationFailed(f"{function} failed: {body[:500]!r}")
        answer: dict[str, Any] = json.loads(body)
        return answer

    def perform(self, command: dict[str, Any]) -> dict[str, Any]:
        return self._invoke(self._settings.management_function, command)

    def refresh(self, event: dict[str, Any]) -> dict[str, Any]:
        return self._invoke(self._settings.inventory_function, event)


class InProcessRunner:
    """The handlers' own ``run`` in this process (never in AWS: the settings refuse it
    without ``TALLY_ESTATE_IN_PROCESS=true``, which CDK never sets)."""

    def perform(self, command: dict[str, Any]) -> dict[str, Any]:
        from management.handler import _clients, _store, run
        from management.settings import ManagementSettings

        settings = ManagementSettings.load()
        return run(command, settings, clients=_clients(settings), store=_store())

    def refresh(self, event: dict[str, Any]) -> dict[str, Any]:
        from inventory.handler import InventoryError, _clients, _store, run
        from inventory.settings import InventorySettings

        settings = InventorySettings.load()
        try:
            return run(event, settings, clients=_clients(settings), store=_store())
        except InventoryError as error:
            return {"failed": [str(error)]}
