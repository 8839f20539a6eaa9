"""The errors the API shows, each with a stable ``extensions.code``.

Resolvers raise these (French messages, for people). Everything else is a bug and is
masked outside debug mode as ``INTERNAL_SERVER_ERROR``; validation errors (depth, aliases,
cost, unknown fields and fragments) are shown with ``GRAPHQL_VALIDATION_FAILED``, syntax
errors (and the token limit) with ``GRAPHQL_PARSE_FAILED``, a variable value its type
refuses with ``BAD_USER_INPUT``.

An expected error (:func:`expected_error`: the client's doing, or a refusal the API answers
on purpose) is not an incident: the schema (``schema.PilotSchema``) logs it as one line
without a traceback (:func:`log_expected_error`), and only the rest at ERROR with its
traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from graphql.error import GraphQLError, GraphQLSyntaxError
from sqlalchemy import exc
from strawberry.extensions import SchemaExtension

from pilot.db import is_unavailable
from pilot.projects.service import DomainError


class ApiError(Exception):
    code: ClassVar[str] = "BAD_REQUEST"
    # the level of the line logged when a request gets this error (``log_expected_error``)
    log_level: ClassVar[int] = logging.DEBUG

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.extensions = {"code": self.code}


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "Authentification requise : fournissez un jeton.") -> None:
        super().__init__(message)


class Forbidden(ApiError):
    code = "FORBIDDEN"

    def __init__(self, message: str = "Votre jeton ne permet pas cette opération.") -> None:
        super().__init__(message)


class NotFound(ApiError):
    code = "NOT_FOUND"


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"


class Busy(ApiError):
    """Too many imports at once: the router answers 503 with Retry-After."""

    code = "SERVICE_BUSY"


class StorageFull(ApiError):
    """The upload could not be archived (disk full): the router answers HTTP 507."""

    code = "INSUFFICIENT_STORAGE"
    log_level = logging.WARNING  # not the client's doing: the server's disk wants attention


INTERNAL = "INTERNAL_SERVER_ERROR"
VALIDATION = "GRAPHQL_VALIDATION_FAILED"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"  # not GraphQL: a syntax error, too many tokens
MASKED_MESSAGE = "Erreur interne : l'incident a été enregistré."
REFUSED_VALUE = (
    "Valeur refusée par la base de données (caractère de contrôle, nombre hors limites) : "
    "corrigez la requête."
)
UNAVAILABLE = "DATABASE_UNAVAILABLE"  # the router turns it into HTTP 503
UNAVAILABLE_MESSAGE = (
    "La base de données est momentanément indisponible. Réessayez dans quelques instants."
)


@contextmanager
def user_input() -> Iterator[None]:
    """Turn a broken domain rule (French ``DomainError``/``ValueError``) into BAD_USER_INPUT."""
    try:
        yield
    except ApiError:
        raise
    except (DomainError, ValueError) as error:
        raise BadUserInput(str(error)) from error


# Strawberry's documented logger for execution errors
log = logging.getLogger("strawberry.execution")
_LOGGED_CHARACTERS = 200  # of a client error's message (it may quote what the client sent)


def _refused_variable(error: GraphQLError) -> bool:
    """A variable whose value its type refuses: before execution (no path), graphql-core
    wraps the type's own refusal, a ``GraphQLError``."""
    return error.path is None and isinstance(error.original_error, GraphQLError)


def _is_shown(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, ApiError) or _refused_variable(error)


def expected_error(error: GraphQLError) -> bool:
    """Whether ``error`` is one the API answers on purpose: a syntax or validation error
    (depth, cost, unknown field…), a variable its type refuses, an ``ApiError`` (a refusal,
    a broken rule, too many imports, a full disk), or a value the database refuses. Anything
    else (a bug, the database failing) is an incident."""
    return _is_shown(error) or isinstance(error.original_error, exc.DataError)


def code_of(error: GraphQLError) -> str:
    """The ``extensions.code`` the client gets for ``error`` (before masking)."""
    given = (error.extensions or {}).get("code")
    if given:
        return str(given)
    if isinstance(error, GraphQLSyntaxError):
        return PARSE_FAILED
    if error.original_error is None:
        return VALIDATION
    if _refused_variable(error) or isinstance(error.original_error, exc.DataError):
        return BadUserInput.code
    return INTERNAL


def log_expected_error(error: GraphQLError) -> None:
    """One line, no traceback, at DEBUG (WARNING for a full disk): anyone can send a
    request that fails, and each request already has its access line (``pilot.access``)
    and counts in ``pilot_graphql_error_responses``; the client reads the message."""
    original = error.original_error
    level = original.log_level if isinstance(original, ApiError) else logging.DEBUG
    code = code_of(error)
    message = error.message[:_LOGGED_CHARACTERS]  # %r: one line, control characters escaped
    log.log(
        level,
        "GraphQL error answered: %s %r",
        code,
        message,
        extra={"graphql_code": code},
    )


class ErrorPolicy(SchemaExtension):
    """Gives every error a code; masks unexpected ones unless ``mask`` is False (debug)."""

    def __init__(self, mask: bool = True) -> None:
        self.mask = mask

    def should_mask_error(self, error: GraphQLError) -> bool:
        original = error.original_error
        return (
            (self.mask and not _is_shown(error))
            or (original is not None and is_unavailable(original))
            or isinstance(original, exc.DataError)
        )

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = GraphQLError(
            MASKED_MESSAGE,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
        )
        if error.original_error is not None and is_unavailable(error.original_error):
            masked.message = UNAVAILABLE_MESSAGE
            masked.extensions = {"code": UNAVAILABLE}
        elif isinstance(error.original_error, exc.DataError):  # a value the database refuses
            masked.message = REFUSED_VALUE
            masked.extensions = {"code": BadUserInput.code}
        else:
            masked.extensions = {"code": INTERNAL}
        return masked

    def shown(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        """The errors as the client sees them: unexpected ones masked, each with a code.

        Idempotent. The router applies it to every response too, since a few errors
        never reach this extension's hook: a syntax error or a token limit raised while
        parsing (``ParserCache`` parses in its own hook), or an exception in validation."""
        processed = [self.anonymise_error(e) if self.should_mask_error(e) else e for e in errors]
        for error in processed:
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": code_of(error)}
        return processed

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = self.shown(result.errors)


# ``pilot.auth.access.AccessDenied`` kinds as GraphQL errors
ACCESS_ERRORS: dict[str, type[ApiError]] = {
    "unauthenticated": Unauthenticated,
    "forbidden": Forbidden,
    "not_found": NotFound,
    "bad_input": BadUserInput,
}
