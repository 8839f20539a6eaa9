"""Answers of GraphQL queries, cached by data version in each worker.

PILOT's data changes only when something is written (an import, a mutation, a
publication, a command), and every write transaction bumps the *data version* in the
same transaction (``pilot.coordination.install_versioning``). A query's answer is
therefore cached under

    (the query, normalised; its variables; the operation name; the caller's scope;
     the data version; today's date)

and served without execution while the version holds, by every worker: each request
reads the version with one statement (the router's context getter), so an answer is
never served once any process — another worker or host, the CLI, the scheduler —
committed a write.

- **Scope.** What a caller may read depends only on its role and, for a ministry token,
  its ministry (``pilot.auth.access``): confidential projects' figures, other
  ministries' projects. The key carries both, so ministry A never gets an answer cached
  for ministry B, nor the public one cached for DINUM. A document selecting ``me`` (who
  is asking) also carries the token itself.
- **Date.** Some answers depend on the day (late milestones, stale reports, opinion
  clocks): the key carries today's date (local and Paris).
- **Only successful queries**: never a mutation, never an answer with an error.
- **Bounded in bytes**: an entry is the response already encoded as JSON (a hit sends
  it as it is); the least recently used go first once the
  entries' total exceeds ``PILOT_GRAPHQL_CACHE_BYTES`` (0: no cache).

A query text seen before is looked up by the router before anything else (its normalised
form is remembered: :meth:`AnswerCache.key`), so a hit is neither parsed nor
validated. A text never seen is parsed; a Strawberry schema extension
(:class:`AnswerCacheExtension`, ``on_execute``: setting the execution context's result
skips execution, Strawberry's documented way) then looks its normalised form up, so an
equivalent query written differently is served too. The router stores the answer once it
has encoded it.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from graphql.language import Visitor, print_ast
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from graphql import DocumentNode, FieldNode, visit
from pilot.auth.service import Principal

if TYPE_CHECKING:
    from pilot.api.graphql.context import Context

_NORMALISED_SIZE = 1024
_ENTRY_OVERHEAD = 200  # bytes of a key and its entry besides the body


class _Me(Visitor):
    found = False

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.name.value == "me":
            self.found = True


class AnswerCache:
    """The answers of one worker, least recently used first out."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        # query text -> (normalised text, selects ``me``)
        self._documents: OrderedDict[str, tuple[str, bool]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _document(self, query: str, document: DocumentNode) -> tuple[str, bool]:
        with self._lock:
            known = self._documents.get(query)
        if known is None:
            me = _Me()
            visit(document, me)
            known = (print_ast(document), me.found)
            with self._lock:
                self._documents[query] = known
                if len(self._documents) > _NORMALISED_SIZE:
                    self._documents.popitem(last=False)
        return known

    def key(
        self,
        *,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        principal: Principal,
        version: int,
        today: tuple[date, ...],
        document: DocumentNode | None = None,
    ) -> Hashable | None:
        """The answer's key. Without its parsed ``document``, only for a query text seen
        before (its normalised form is remembered: nothing is parsed), else None."""
        if document is not None:
            known: tuple[str, bool] | None = self._document(query, document)
        else:
            with self._lock:
                known = self._documents.get(query)
        if known is None:
            return None
        return self._key(known, variables, operation_name, principal, version, today)

    @staticmethod
    def _key(
        document: tuple[str, bool],
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        principal: Principal,
        version: int,
        today: tuple[date, ...],
    ) -> Hashable:
        normalised, me = document
        scope: tuple[Any, ...] = (principal.role.value, principal.ministry_id)
        if me:
            scope += (principal.token_id, principal.name)
        return (
            version,
            today,
            scope,
            normalised,
            json.dumps(variables or {}, sort_keys=True, default=str),
            operation_name,
        )

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: Hashable, encoded: bytes) -> None:
        size = len(encoded) + _ENTRY_OVERHEAD
        if size > self.max_bytes:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous) + _ENTRY_OVERHEAD
            self._entries[key] = encoded
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped) + _ENTRY_OVERHEAD


class AnswerCacheExtension(SchemaExtension):
    """Serves a query's cached answer instead of executing it; for a query that must
    execute, leaves its key on the context (``answer_key``) for the router to store the
    encoded answer under. Mutations and subscriptions are never looked up."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        context: Context | None = execution.context
        cache = getattr(context, "answers", None)
        document = execution.graphql_document
        if (
            context is None
            or cache is None
            or not cache.enabled
            or context.data_version is None
            or document is None
            or execution.query is None
            or execution.operation_type != OperationType.QUERY
        ):
            yield
            return
        key = cache.key(
            query=execution.query,
            document=document,
            variables=execution.variables,
            operation_name=execution.operation_name,
            principal=context.principal,
            version=context.data_version,
            today=context.dates,
        )
        encoded = cache.get(key)
        if encoded is not None:  # the router sends it as it is
            context.cached = encoded
            execution.result = ExecutionResult(data=None, errors=None)
        else:
            context.answer_key = key
        yield
