"""What a request may ask for, checked once before anything executes.

One validation rule (:func:`limits_rule`) measures each operation of the document:

- *depth*: the deepest nesting of fields (a root field alone is 0; introspection fields
  are not counted, as before);
- *aliases*: aliased fields, a fragment counting once per spread;
- *cost*: the estimated number of values in the response. Every field counts once per
  object it is read on; a list counts its items: ``first`` (or its default, or
  ``graphql_default_page_size``) for a field that takes ``first`` — a connection's
  ``edges`` and ``nodes`` are pages of that size — and ``graphql_cost_list_size`` for a
  list without one (a project's milestones). So ``projects(first: 1000) { nodes { id
  milestones { name } } }`` costs about 1 000 × (1 + 1 + 10 × 2).

and refuses the request when one of them is over the limits of the requester's role
(:class:`Limits`, from settings), with a French message, before execution. It also
refuses any list longer than ``graphql_max_list_length`` in the arguments, written in
the query or passed as variables.

The pass is linear in the size of the document: each fragment is measured once, in an
order where the fragments it spreads are measured first, and a spread then adds the
fragment's figures (a fragment spread twice in a fragment spread twice … costs one look-up
per spread, not a walk per path). A spread of an unknown fragment, or one in a cycle,
adds nothing: graphql-core's own rules report them. Figures saturate at ``CAP`` so that
a fan-out of fragments never builds huge integers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
)
from strawberry.extensions import AddValidationRules

from graphql import (
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    SchemaMetaFieldDef,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    ValidationContext,
    ValidationRule,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from pilot.api.graphql.errors import VALIDATION, BadUserInput
from pilot.auth.models import Role
from pilot.config import Settings

CAP = 10**15  # figures saturate here: far above any budget, far below a huge integer

TOO_DEEP = "Requête trop imbriquée : profondeur {found}, {limit} au maximum."
TOO_MANY_ALIASES = "Trop d'alias dans la requête : {found}, {limit} au maximum."
TOO_COSTLY = (
    "Requête trop coûteuse : environ {found} valeurs demandées, {limit} au maximum pour "
    "votre profil. Demandez moins de champs, ou des pages plus petites (« first ») que "
    "vous parcourez avec « after »."
)
LIST_TOO_LONG = (
    "Liste trop longue : {found} éléments, {limit} au maximum par liste. "
    "Découpez la demande en plusieurs requêtes."
)


RULES_CACHE_SIZE = 256  # as many as the validation cache (schema.py)


@dataclass(frozen=True)
class Limits:
    """What one request may ask for (settings documented in the README)."""

    max_depth: int
    max_aliases: int
    max_cost: int
    max_list_length: int
    list_size: int  # estimated length of a list without ``first``
    default_page_size: int  # ``first`` when not given
    max_page_size: int

    @classmethod
    def for_role(cls, settings: Settings, role: Role) -> Limits:
        budgets = {
            Role.PUBLIC: settings.graphql_cost_budget_public,
            Role.MINISTRY: settings.graphql_cost_budget_ministry,
            Role.DINUM: settings.graphql_cost_budget_dinum,
            Role.ADMIN: settings.graphql_cost_budget_dinum,
        }
        return cls(
            max_depth=settings.graphql_max_depth,
            max_aliases=settings.graphql_max_aliases,
            max_cost=budgets[role],
            max_list_length=settings.graphql_max_list_length,
            list_size=settings.graphql_cost_list_size,
            default_page_size=settings.graphql_default_page_size,
            max_page_size=settings.graphql_max_page_size,
        )


@dataclass(frozen=True)
class Figures:
    """The measure of a selection set.

    ``cost`` counts the values of the set itself; ``per_item`` those of its lists that
    take no ``first`` of their own, per item: the field holding the set multiplies them
    by its page size (``first``) or by the estimated list size."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0
    per_item: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            max(self.depth, other.depth),
            min(self.aliases + other.aliases, CAP),
            min(self.cost + other.cost, CAP),
            min(self.per_item + other.per_item, CAP),
        )


@dataclass(frozen=True)
class Measure:
    """What an operation asks for."""

    depth: int
    aliases: int
    cost: int


NOTHING = Figures()


def _field_definition(
    schema: GraphQLSchema, parent: GraphQLNamedType | None, name: str
) -> GraphQLField | None:
    if name == "__typename":
        return TypeNameMetaFieldDef
    if parent is not None and parent is schema.query_type:
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return parent.fields.get(name)
    return None  # an unknown field: graphql-core's rules report it


def _default(argument: GraphQLArgument) -> object:
    """An argument's default: ``default`` (a value or a literal, as an SDL gives it) or
    the older ``default_value`` (as Strawberry gives it)."""
    default = argument.default
    if default is None:
        return argument.default_value
    if isinstance(default.literal, IntValueNode):
        return int(default.literal.value)
    return default.value


def _spread_names(selection_set: SelectionSetNode) -> Iterator[str]:
    """The fragments spread anywhere in ``selection_set``."""
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif selection.selection_set is not None:  # type: ignore[attr-defined]
                pending.append(selection.selection_set)  # type: ignore[attr-defined]


def _dependency_order(fragments: Mapping[str, FragmentDefinitionNode]) -> list[str]:
    """Every fragment, each after the fragments it spreads (cycles broken anywhere)."""
    order: list[str] = []
    state: dict[str, bool] = {}  # False: being visited, True: done
    for root in fragments:
        if root in state:
            continue
        state[root] = False
        stack = [(root, iter(list(_spread_names(fragments[root].selection_set))))]
        while stack:
            name, spreads = stack[-1]
            for spread in spreads:
                if spread in fragments and spread not in state:
                    state[spread] = False
                    stack.append(
                        (spread, iter(list(_spread_names(fragments[spread].selection_set))))
                    )
                    break
            else:
                stack.pop()
                state[name] = True
                order.append(name)
    return order


class Analysis:
    """Measures the operations of one document (see the module's docstring)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        limits: Limits,
    ) -> None:
        self.schema = schema
        self.limits = limits
        self.variables = variables
        definitions = document.definitions
        self.operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
        self.fragments: dict[str, FragmentDefinitionNode] = {}
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                self.fragments.setdefault(definition.name.value, definition)
        # Integer defaults of the operations' variables, for ``first: $size``.
        self.defaults: dict[str, int] = {}
        self.longest_list = 0  # the longest list written in an argument or a default
        for operation in self.operations:
            for variable in operation.variable_definitions or ():
                if variable.default_value is not None:
                    self._note_lists(variable.default_value)
                if isinstance(variable.default_value, IntValueNode):
                    self.defaults[variable.variable.name.value] = int(variable.default_value.value)
        self.measured: dict[str, Figures] = {}
        for name in _dependency_order(self.fragments):
            fragment = self.fragments[name]
            self.measured[name] = self._selection_set(
                fragment.selection_set, schema.get_type(fragment.type_condition.name.value)
            )

    def measure(self, operation: OperationDefinitionNode) -> Measure:
        root = {
            OperationType.QUERY: self.schema.query_type,
            OperationType.MUTATION: self.schema.mutation_type,
            OperationType.SUBSCRIPTION: self.schema.subscription_type,
        }[operation.operation]
        figures = self._selection_set(operation.selection_set, root)
        cost = min(figures.cost + self.limits.list_size * figures.per_item, CAP)
        return Measure(figures.depth, figures.aliases, cost)

    def _selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
    ) -> Figures:
        total = NOTHING
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.measured.get(selection.name.value, NOTHING)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = parent if condition is None else self.schema.get_type(condition.name.value)
                total += self._selection_set(selection.selection_set, inner)
        return total

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Figures:
        definition = _field_definition(self.schema, parent, node.name.value)
        for argument in node.arguments or ():
            self._note_lists(argument.value)
        aliases = 1 if node.alias is not None else 0
        listed = definition is not None and is_list_type(get_nullable_type(definition.type))
        first = self._first(node, definition)
        if node.selection_set is None:
            inner, one = NOTHING, 1
        else:
            inner = self._selection_set(
                node.selection_set, None if definition is None else get_named_type(definition.type)
            )
            # The lists inside without a ``first`` of their own: pages of this field's
            # ``first`` when it is a connection, else of the estimated size.
            page = first if first is not None and not listed else self.limits.list_size
            one = min(1 + inner.cost + page * inner.per_item, CAP)
        # Introspection (``__schema``, ``__type``) does not count for depth, as before;
        # its cost does count (nested ``fields { type { fields …`` grow fast).
        introspection = node.name.value.startswith("__")
        depth = 0 if node.selection_set is None or introspection else 1 + inner.depth
        aliases = min(aliases + inner.aliases, CAP)
        if not listed:
            return Figures(depth, aliases, one, 0)
        if first is not None:
            return Figures(depth, aliases, min(first * one, CAP), 0)
        return Figures(depth, aliases, 0, one)  # sized by the field holding it

    def _first(self, node: FieldNode, definition: GraphQLField | None) -> int | None:
        """The page size asked of a field that takes ``first``, else None."""
        if definition is None or "first" not in definition.args:
            return None
        limits = self.limits
        value: object = None
        given = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
        if isinstance(given, IntValueNode):
            value = int(given.value)
        elif isinstance(given, VariableNode):
            name = given.name.value
            value = self.variables.get(name, self.defaults.get(name))
        elif given is None:
            value = _default(definition.args["first"])
        elif not isinstance(given, NullValueNode):
            value = limits.max_page_size  # not a number: refused by the other rules
        if not isinstance(value, int) or isinstance(value, bool):
            value = limits.default_page_size
        return max(0, min(value, limits.max_page_size))

    def _note_lists(self, value: ValueNode) -> None:
        pending = [value]
        while pending:
            node = pending.pop()
            if isinstance(node, ListValueNode):
                self.longest_list = max(self.longest_list, len(node.values))
                pending.extend(node.values)
            elif isinstance(node, ObjectValueNode):
                pending.extend(f.value for f in node.fields)


def longest_list(value: object) -> int:
    """The length of the longest list anywhere in ``value`` (JSON variables)."""
    longest = 0
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            longest = max(longest, len(item))
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
    return longest


def limits_rule(limits: Limits, variables: Mapping[str, Any]) -> type[ValidationRule]:
    """A graphql-core validation rule enforcing ``limits`` (variables: the request's)."""

    class RequestLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.check(context.schema, context.document)

        def check(self, schema: GraphQLSchema, document: DocumentNode) -> None:
            longest = longest_list(dict(variables))
            analysis = Analysis(schema, document, variables, limits)
            for operation in analysis.operations:
                measure = analysis.measure(operation)
                if measure.depth > limits.max_depth:
                    self.refuse(TOO_DEEP, measure.depth, limits.max_depth, operation)
                if measure.aliases > limits.max_aliases:
                    self.refuse(TOO_MANY_ALIASES, measure.aliases, limits.max_aliases, operation)
                if measure.cost > limits.max_cost:
                    self.refuse(TOO_COSTLY, measure.cost, limits.max_cost, operation)
            longest = max(longest, analysis.longest_list)
            if longest > limits.max_list_length:
                self.refuse(LIST_TOO_LONG, longest, limits.max_list_length, None, BadUserInput.code)

        def refuse(
            self,
            message: str,
            found: int,
            limit: int,
            node: OperationDefinitionNode | None,
            code: str = VALIDATION,
        ) -> None:
            self.report_error(
                GraphQLError(
                    message.format(found=_french(found), limit=_french(limit)),
                    node,
                    extensions={"code": code, "found": found, "limit": limit},
                )
            )

    return RequestLimits


@lru_cache(maxsize=RULES_CACHE_SIZE)
def _limits_rule_of(limits: Limits, variables: str) -> type[ValidationRule]:
    return limits_rule(limits, json.loads(variables))


def shared_limits_rule(limits: Limits, variables: Mapping[str, Any] | None) -> type[ValidationRule]:
    """:func:`limits_rule`, the same class for the same limits and variables (as JSON),
    so that Strawberry's ``ValidationCache`` (keyed by document and rules) validates a
    document repeated with the same variables by the same role once. Variables that are
    not plain JSON (an upload) get a rule of their own."""
    try:
        key = json.dumps(variables or {}, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        return limits_rule(limits, variables or {})
    return _limits_rule_of(limits, key)


def _french(number: int) -> str:
    """``1234567`` as « 1 234 567 » (narrow no-break spaces)."""
    return f"{number:,}".replace(",", "\u202f")


class RequestLimitsExtension(AddValidationRules):
    """Adds :func:`limits_rule` with the limits of the requester's role (the principal
    of the request's context; public without one) and the request's variables."""

    def __init__(self, settings: Settings) -> None:
        super().__init__([])
        self.settings = settings

    def on_operation(self) -> Iterator[None]:
        principal = getattr(self.execution_context.context, "principal", None)
        role = getattr(principal, "role", Role.PUBLIC)
        limits = Limits.for_role(self.settings, role)
        self.validation_rules = [shared_limits_rule(limits, self.execution_context.variables)]
        yield from super().on_operation()
