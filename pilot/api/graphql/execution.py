"""A leaner graphql-core executor for plain scalar fields.

graphql-core executes every field the same way: it builds a ``GraphQLResolveInfo``,
collects the arguments, calls the resolver, checks for an awaitable and completes the
value (≈ 5 µs a field). A project list of 1 000 projects with their milestones and risks
holds about 110 000 fields, almost all of them *basic* Strawberry fields: no resolver, no
arguments, no extension, a scalar or enum read from an attribute of the source object.

:class:`PilotExecutionContext` answers those directly: ``getattr`` then the type's own
``coerce_output_value``, exactly what the default path computes. Anything else (fields
with a resolver, objects, lists, nulls in non-null fields, values that do not coerce)
goes through graphql-core's own ``execute_field``, so errors and their paths are
unchanged. With resolve middleware (a schema extension implementing ``resolve``) the
fast path is off, since middleware must see every field.
"""

from __future__ import annotations

from typing import Any

from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    Undefined,
    is_leaf_type,
)

# (attribute name, leaf type, non-null), or None when the field needs the full path.
_Plain = tuple[str, GraphQLLeafType, bool] | None


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
    return definition.python_name, leaf, non_null


class PilotExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with basic scalar fields read directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._fast = not (manager and manager.middlewares)
        self._plain: dict[tuple[str, str], _Plain] = {}

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
            key = (parent_type.name, name)
            try:
                plain = self._plain[key]
            except KeyError:
                field = self.schema.get_field(parent_type, name)
                plain = self._plain[key] = None if field is None else plain_field(field)
            if plain is not None:
                attribute, leaf, non_null = plain
                value = getattr(source, attribute, Undefined)
                if value is None and not non_null:
                    return None
                if value is not None and value is not Undefined:
                    try:
                        coerced = leaf.coerce_output_value(value)
                    except Exception:  # the full path below reports it
                        coerced = None
                    if coerced is not None and coerced is not Undefined:
                        return coerced
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
