"""Responses of queries that read only published editions, cached in the process.

A published edition never changes (the session refuses to rewrite it), so such a
response stays right for ever, with one exception: publishing or loading an edition
renumbers the unpinned ones and changes which one is "latest". Every key therefore
carries the *data version* (``pilot.coordination``: a one-row table bumped in the same
transaction as every write to editions), read with one tiny statement per cacheable
request: any edition written, by this process or another one (CLI import, scheduler,
another worker or host), changes it, and the old entries are never hit again and age out
of the LRU.

A query is cacheable when every root field is one of ``CACHEABLE_ROOTS`` (``portfolio``
only without ``asOf``): these types expose frozen edition data and nothing live.

An entry keeps its response already encoded as JSON (:class:`EncodedResult`): a hit costs
the key's statement and a dictionary look-up, not a new encoding of a thousand rows.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

from graphql.error import GraphQLError
from sqlmodel import Session
from strawberry.types import ExecutionResult

from graphql import FieldNode, OperationDefinitionNode, OperationType, parse
from pilot.auth.service import Principal
from pilot.coordination import current_data_version

CACHEABLE_ROOTS = frozenset({"editions", "edition", "editionDiff", "trends", "portfolio"})
_ANALYSIS_SIZE = 1024


def _root_fields_cacheable(
    query: str, operation_name: str | None, max_tokens: int | None = None
) -> bool:
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        return False
    for selection in operations[0].selection_set.selections:
        if not isinstance(selection, FieldNode):
            return False  # fragments at the root: not worth analysing
        name = selection.name.value
        if name not in CACHEABLE_ROOTS:
            return False
        if name == "portfolio" and any(a.name.value == "asOf" for a in selection.arguments or ()):
            return False
    return True


@dataclasses.dataclass
class EncodedResult(ExecutionResult):
    """An execution result with its response body encoded once and for all (in the
    worker thread that executed it: the event loop only sends it)."""

    encoded: str | bytes = ""

    @classmethod
    def of(cls, result: ExecutionResult, encoded: str | bytes) -> EncodedResult:
        return cls(
            data=result.data, errors=result.errors, extensions=result.extensions, encoded=encoded
        )


class EncodedResponse(dict[str, Any]):
    """A processed response that carries its own JSON encoding."""

    def __init__(self, data: Mapping[str, object], encoded: str | bytes) -> None:
        super().__init__(data)
        self.encoded = encoded


class ResponseCache:
    def __init__(self, size: int, max_tokens: int | None = None) -> None:
        self.size = size
        self.max_tokens = max_tokens  # longer documents are not analysed (nor served)
        self._entries: OrderedDict[Hashable, EncodedResult] = OrderedDict()
        self._analysis: OrderedDict[tuple[str, str | None], bool] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def cacheable(self, query: str, operation_name: str | None) -> bool:
        key = (query, operation_name)
        with self._lock:
            known = self._analysis.get(key)
        if known is None:
            known = _root_fields_cacheable(query, operation_name, self.max_tokens)
            with self._lock:
                self._analysis[key] = known
                if len(self._analysis) > _ANALYSIS_SIZE:
                    self._analysis.popitem(last=False)
        return known

    def key(
        self,
        session: Session,
        principal: Principal,
        query: str | None,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> Hashable | None:
        """The cache key of a request, or None when it must be executed."""
        if self.size <= 0 or not query or not self.cacheable(query, operation_name):
            return None
        return (
            current_data_version(session.connection()),
            principal.role.value,
            principal.ministry_id,
            query,
            json.dumps(variables or {}, sort_keys=True, default=str),
            operation_name,
        )

    def get(self, key: Hashable) -> EncodedResult | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: Hashable, result: EncodedResult) -> None:
        if result.errors:
            return
        with self._lock:
            self._entries[key] = result
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
