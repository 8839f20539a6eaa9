"""The root schema, composed from each domain's Query and Mutation classes, with the
safety extensions configured from settings."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from pilot.api.graphql.accounts import AccountMutation, AccountQuery
from pilot.api.graphql.cache import AnswerCacheExtension
from pilot.api.graphql.campaigns import AlertMutation, CampaignQuery
from pilot.api.graphql.cost import RULES_CACHE_SIZE, RequestLimitsExtension
from pilot.api.graphql.editions import EditionMutation, EditionQuery
from pilot.api.graphql.errors import ErrorPolicy, expected_error, log_expected_error
from pilot.api.graphql.imports import ImportMutation, ImportQuery
from pilot.api.graphql.opinions import OpinionMutation, OpinionQuery
from pilot.api.graphql.portfolio import PortfolioQuery
from pilot.api.graphql.projects.mutations import ConfidentialityMutation, ProjectMutation
from pilot.api.graphql.projects.queries import ProjectQuery
from pilot.api.graphql.types import EUROS_SCALAR, Euros
from pilot.config import Settings, get_settings

Query = merge_types(
    "Query",
    (
        ProjectQuery,
        PortfolioQuery,
        EditionQuery,
        ImportQuery,
        AccountQuery,
        CampaignQuery,
        OpinionQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        ProjectMutation,
        ConfidentialityMutation,
        EditionMutation,
        ImportMutation,
        AccountMutation,
        AlertMutation,
        OpinionMutation,
    ),
)


def extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Per-request extensions (factories: Strawberry builds a fresh one per request)."""
    found: list[Callable[[], SchemaExtension]] = [
        AnswerCacheExtension,  # cache.py: a cached answer skips execution
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: ParserCache(maxsize=RULES_CACHE_SIZE),
        # depth, aliases, cost and list lengths, in one pass (cost.py), a validation
        # rule shared by requests of the same role and variables, so that the
        # validation of a document repeated with them is cached too
        lambda: RequestLimitsExtension(settings),
        lambda: ValidationCache(maxsize=RULES_CACHE_SIZE),
        lambda: ErrorPolicy(mask=not settings.debug),
    ]
    if not settings.introspection:
        found.append(DisableIntrospection)
    return found


class PilotSchema(strawberry.Schema):
    """Strawberry's schema, logging as incidents only the errors that are: Strawberry's
    documented ``process_errors`` hook, which sees every error of a request once, before
    ``ErrorPolicy`` masks it."""

    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        incidents = []
        for error in errors:
            if expected_error(error):
                log_expected_error(error)  # one line, no traceback
            else:
                incidents.append(error)
        if incidents:  # Strawberry's default: ERROR on ``strawberry.execution``, traceback
            super().process_errors(incidents, execution_context)


def build_schema(settings: Settings | None = None) -> PilotSchema:
    return PilotSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions(settings or get_settings()),
        config=StrawberryConfig(scalar_map={Euros: EUROS_SCALAR}),
    )


def sdl() -> str:
    """The schema as SDL, as checked in at ``graphql/schema.graphql``."""
    return build_schema().as_str() + "\n"
