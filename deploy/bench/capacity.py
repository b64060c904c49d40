"""The units DynamoDB charges, as the benchmarks of deploy/bench/ measure them on DynamoDB Local:
``ReturnConsumedCapacity=INDEXES`` asked on every data call of a client, the answers summed."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

from voj.aws import build_client

_READS = {"GetItem", "Query", "BatchGetItem"}
_DATA_CALLS = _READS | {
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
}

# By call: (write units, read units, requests).
Figures = dict[str, tuple[float, float, int]]


class Capacity:
    """Adds ReturnConsumedCapacity to every DynamoDB call of a client and sums the answers."""

    def __init__(self, client: Any) -> None:
        self.read = 0.0
        self.write = 0.0
        self.requests: list[str] = []
        for operation in _DATA_CALLS:
            client.meta.events.register(f"provide-client-params.dynamodb.{operation}", self._ask)
        client.meta.events.register("after-call.dynamodb.*", self._count)

    @staticmethod
    def _ask(params: dict, **kwargs: Any) -> None:
        params.setdefault("ReturnConsumedCapacity", "INDEXES")

    def _count(self, parsed: dict, model: Any, **kwargs: Any) -> None:
        self.requests.append(model.name)
        consumed = parsed.get("ConsumedCapacity") or []
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            self.read += entry.get("ReadCapacityUnits", 0.0)
            self.write += entry.get("WriteCapacityUnits", 0.0)
            if "ReadCapacityUnits" not in entry and "WriteCapacityUnits" not in entry:
                # Older answers give only the total; reads and writes never mix in one call.
                units = entry.get("CapacityUnits", 0.0)
                if model.name in _READS:
                    self.read += units
                else:
                    self.write += units

    @contextlib.contextmanager
    def during(self) -> Iterator[Capacity]:
        self.read = self.write = 0.0
        self.requests = []
        yield self

    def recorder(self, figures: Figures) -> Callable[[str, Callable[[], Any]], Any]:
        """``measured(name, call)``: runs ``call`` and records its figures under ``name``."""

        def measured(name: str, call: Callable[[], Any]) -> Any:
            with self.during() as seen:
                result = call()
            figures[name] = (seen.write, seen.read, len(seen.requests))
            return result

        return measured


def bench_client(endpoint: str) -> Any:
    """The app's DynamoDB client (retries, timeouts) against DynamoDB Local, which accepts any
    key."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    return build_client("dynamodb", region="ap-northeast-2", endpoint_url=endpoint)
