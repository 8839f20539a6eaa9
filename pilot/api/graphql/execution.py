"""A leaner graphql-core executor for the fields that need none of its machinery.

graphql-core executes every field the same way: it builds a ``GraphQLResolveInfo`` and a
``Path``, collects the arguments, calls the resolver (for Strawberry, through a wrapper
that builds its own ``Info``, converts the arguments and chains the field extensions),
checks for an awaitable and completes the value: ≈ 5 µs a field. A page of 1 000
projects with their milestones and risks holds about 110 000 fields.

:class:`PilotExecutionContext` takes three shortcuts, each computing exactly what the
full path computes:

- *plain fields* (basic Strawberry fields: no resolver, argument or extension, a scalar
  or enum read from an attribute) are read with ``getattr`` and completed with the
  type's own ``coerce_output_value``;
- an object, or a list of objects, whose selected fields are all plain (a milestone, a
  project's risks) is built in one loop;
- *thin resolvers* (sync Strawberry resolvers taking ``self`` and builtin scalar
  arguments, no ``info``, no extension) are called directly instead of through
  Strawberry's wrapper; graphql-core still completes their value.

Anything else, and any value that is null in a non-null field or does not coerce, goes
through graphql-core's own path, so errors and their paths are unchanged. With resolve
middleware (a schema extension implementing ``resolve``) the shortcuts are off, since
middleware must see every field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import FunctionType
from typing import Any, NamedTuple

from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import to_nodes
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLString,
    Undefined,
    is_leaf_type,
)


class PlainField(NamedTuple):
    """How to read a basic Strawberry leaf field directly."""

    attribute: str
    leaf: GraphQLLeafType
    non_null: bool
    # Values of this exact type come out of ``leaf.coerce_output_value`` unchanged
    # (``str`` for String and ID, ``bool`` for Boolean, ``int`` within 32 bits for Int):
    # they are returned as they are.
    same: type | None


_SAME: dict[GraphQLLeafType, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
    GraphQLInt: int,
}
_MIN_INT, _MAX_INT = GRAPHQL_MIN_INT, GRAPHQL_MAX_INT
_Plain = PlainField | None


def plain_field(field: GraphQLField) -> _Plain:
    """How to read ``field`` directly, when it is a basic Strawberry leaf field."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolve = field.resolve
    if (
        not isinstance(definition, StrawberryField)
        or not definition.is_basic_field
        or field.args
        # Strawberry marks the resolver it builds for a basic field as default; a field
        # with exception handlers gets another resolver and keeps the full path.
        or getattr(resolve, "__name__", None) != "_get_basic_result"
    ):
        return None
    non_null = isinstance(field.type, GraphQLNonNull)
    leaf = field.type.of_type if non_null else field.type  # type: ignore[union-attr]
    if not is_leaf_type(leaf):
        return None
    return PlainField(definition.python_name, leaf, non_null, _SAME.get(leaf))


_FULL = object()  # the value needs graphql-core's full path (an error to report)


def _complete(value: Any, field: PlainField) -> Any:
    """The completed value of a plain field, or ``_FULL``."""
    if value is None:
        return _FULL if field.non_null else None
    if value is Undefined:
        return _FULL
    try:
        coerced = field.leaf.coerce_output_value(value)
    except Exception:  # the full path reports it
        return _FULL
    return _FULL if coerced is None or coerced is Undefined else coerced


def _plain_value(source: Any, field: PlainField) -> Any:
    """The completed value of a plain field of ``source``, or ``_FULL``."""
    value: Any = getattr(source, field.attribute, Undefined)
    kind = type(value)
    if kind is field.same and (kind is not int or _MIN_INT <= value <= _MAX_INT):
        return value
    if value is None and not field.non_null:
        return None
    return _complete(value, field)


def _plain_dict(source: Any, plain: list[tuple[str, PlainField]]) -> dict[str, Any] | None:
    """The completed object when every plain field completes, else None."""
    results: dict[str, Any] = {}
    for response_name, field in plain:
        # _plain_value, inlined: this loop runs for every field of every list item
        value: Any = getattr(source, field.attribute, Undefined)
        kind = type(value)
        if not (kind is field.same and (kind is not int or _MIN_INT <= value <= _MAX_INT)) and (
            value is not None or field.non_null
        ):
            value = _complete(value, field)
            if value is _FULL:
                return None
        results[response_name] = value
    return results


class ThinResolver(NamedTuple):
    """A Strawberry resolver graphql-core may call directly: a plain function of the
    source object (``self``) and of builtin scalar arguments, with no ``info``, no
    field extension (permission classes are extensions) and no exception handler."""

    field: GraphQLField
    function: Callable[..., Any]
    takes_self: bool
    arguments: tuple[tuple[str, str], ...]  # (GraphQL name, Python name)


_SCALARS = (bool, int, str, float)


def thin_resolver(field: GraphQLField) -> ThinResolver | None:
    """How to call ``field``'s resolver directly, when it is thin."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or definition.extensions:
        return None
    resolver = definition.base_resolver
    if (
        resolver is None
        or resolver.is_async
        or resolver.info_parameter
        or resolver.root_parameter
        or resolver.parent_parameter
        # Strawberry's own resolver for this field, without exception handlers
        or getattr(field.resolve, "__name__", None) != "_resolver"
    ):
        return None
    arguments = []
    for name, argument in field.args.items():
        strawberry_argument = (argument.extensions or {}).get(
            GraphQLCoreConverter.DEFINITION_BACKREF
        )
        if not isinstance(strawberry_argument, StrawberryArgument):
            return None
        kind = strawberry_argument.type
        if isinstance(kind, StrawberryOptional):
            kind = kind.of_type
        if kind not in _SCALARS:
            return None  # enums, inputs, lists: Strawberry converts them
        arguments.append((name, strawberry_argument.python_name))
    function = resolver.wrapped_func
    if not isinstance(function, FunctionType):
        return None  # static and class methods: Strawberry binds them
    return ThinResolver(field, function, resolver.self_parameter is not None, tuple(arguments))


class PilotExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with the shortcuts described above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._fast = not (manager and manager.middlewares)
        self._plain: dict[tuple[str, str], _Plain] = {}
        self._thin: dict[tuple[str, str], ThinResolver | None] = {}
        # id(grouped field set) -> (the set, kept alive; its plain fields or None)
        self._objects: dict[int, tuple[GroupedFieldSet, list[tuple[str, PlainField]] | None]] = {}

    def _plain_field(self, parent_type: GraphQLObjectType, name: str) -> _Plain:
        key = (parent_type.name, name)
        try:
            return self._plain[key]
        except KeyError:
            field = self.schema.get_field(parent_type, name)
            plain = self._plain[key] = None if field is None else plain_field(field)
            return plain

    def _plain_object(
        self, parent_type: GraphQLObjectType, fields: GroupedFieldSet
    ) -> list[tuple[str, PlainField]] | None:
        """The selected fields when every one is plain, else None."""
        try:
            return self._objects[id(fields)][1]
        except KeyError:
            found: list[tuple[str, PlainField]] | None = []
            for response_name, details in fields.items():
                plain = self._plain_field(parent_type, details[0].node.name.value)
                if plain is None or found is None:
                    found = None
                else:
                    found.append((response_name, plain))
            self._objects[id(fields)] = (fields, found)
            return found

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        # An object whose selected fields are all plain (a milestone, a risk) is built
        # here in one loop, without a Path or a resolver call per field.
        plain = self._plain_object(parent_type, grouped_field_set) if self._fast else None
        if plain:
            results = _plain_dict(source_value, plain)
            if results is not None:
                return results
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        if self._fast:
            name = field_details_list[0].node.name.value
            plain = self._plain_field(parent_type, name)
            if plain is not None:
                value = _plain_value(source, plain)
                if value is not _FULL:
                    return value
            else:
                thin = self._thin_resolver(parent_type, name)
                if thin is not None:
                    return self._execute_thin(
                        thin, source, field_details_list, parent_type, path, position_context
                    )
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _thin_resolver(self, parent_type: GraphQLObjectType, name: str) -> ThinResolver | None:
        key = (parent_type.name, name)
        try:
            return self._thin[key]
        except KeyError:
            field = self.schema.get_field(parent_type, name)
            thin = self._thin[key] = None if field is None else thin_resolver(field)
            return thin

    def _execute_thin(
        self,
        thin: ThinResolver,
        source: Any,
        field_details_list: FieldDetailsList,
        parent_type: GraphQLObjectType,
        path: Path,
        position_context: Any,
    ) -> Any:
        """graphql-core's ``execute_field``, calling the resolver function itself rather
        than through Strawberry's wrapper (which builds an ``Info``, converts arguments
        and chains field extensions, none of which this field has)."""
        return_type = thin.field.type
        info = self.build_resolve_info(thin.field, to_nodes(field_details_list), parent_type, path)
        try:
            kwargs: dict[str, Any] = {}
            if thin.arguments:
                details = field_details_list[0]
                given = get_argument_values(
                    thin.field,
                    details.node,
                    self.variable_values,
                    details.fragment_variable_values,
                    self.hide_suggestions,
                )
                kwargs = {py: given[gql] for gql, py in thin.arguments if gql in given}
            result = thin.function(source, **kwargs) if thin.takes_self else thin.function(**kwargs)
            if self.is_awaitable(result):
                return self.complete_awaitable_value(
                    return_type, field_details_list, info, path, result, position_context
                )
            completed = self.complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed

        async def await_completed() -> Any:
            try:
                return await completed
            except Exception as raw_error:
                self.handle_field_error(raw_error, return_type, field_details_list, path)
                return None

        return await_completed()

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo,
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> Any:
        # A list of objects whose selected fields are all plain (a project's milestones)
        # is built here in one loop, without completing each item through graphql-core.
        if self._fast and isinstance(items, list):
            rows = self._plain_list(item_type, field_details_list, path, items)
            if rows is not None:
                return rows
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def _plain_list(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
        items: list[Any],
    ) -> list[dict[str, Any]] | None:
        object_type = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if (
            not isinstance(object_type, GraphQLObjectType)
            or object_type.is_type_of is not None
            or self.get_stream_usage(field_details_list, path) is not None
        ):
            return None
        fields, new_defers, forbidden = self.collect_subfields(object_type, field_details_list)
        plain = None if new_defers or forbidden else self._plain_object(object_type, fields)
        if not plain:
            return None
        rows = []
        for item in items:
            row = None if item is None else _plain_dict(item, plain)
            if row is None:
                return None  # a null item or a field in error: the full path reports it
            rows.append(row)
        return rows
