"""The errors the API shows, each with a stable ``extensions.code``.

Resolvers raise these (French messages, for people). Everything else is a bug and is
masked outside debug mode as ``INTERNAL_SERVER_ERROR``; validation errors (depth, aliases,
tokens, unknown fields) are shown with ``GRAPHQL_VALIDATION_FAILED``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from graphql.error import GraphQLError
from sqlalchemy import exc
from strawberry.extensions import MaskErrors

from pilot.db import is_unavailable
from pilot.projects.service import DomainError


class ApiError(Exception):
    code: ClassVar[str] = "BAD_REQUEST"

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


INTERNAL = "INTERNAL_SERVER_ERROR"
VALIDATION = "GRAPHQL_VALIDATION_FAILED"
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


def _is_shown(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, ApiError)


class ErrorPolicy(MaskErrors):
    """Gives every error a code; masks unexpected ones unless ``mask`` is False (debug)."""

    def __init__(self, mask: bool = True) -> None:
        super().__init__(
            should_mask_error=lambda e: (
                (mask and not _is_shown(e))
                or (e.original_error is not None and is_unavailable(e.original_error))
                or isinstance(e.original_error, exc.DataError)
            )
        )
        self.error_message = MASKED_MESSAGE

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        if error.original_error is not None and is_unavailable(error.original_error):
            masked.message = UNAVAILABLE_MESSAGE
            masked.extensions = {"code": UNAVAILABLE}
        elif isinstance(error.original_error, exc.DataError):  # a value the database refuses
            masked.message = REFUSED_VALUE
            masked.extensions = {"code": BadUserInput.code}
        else:
            masked.extensions = {"code": INTERNAL}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if not (error.extensions or {}).get("code"):
                code = VALIDATION if error.original_error is None else INTERNAL
                error.extensions = {**(error.extensions or {}), "code": code}
        return processed


# ``pilot.auth.access.AccessDenied`` kinds as GraphQL errors
ACCESS_ERRORS: dict[str, type[ApiError]] = {
    "unauthenticated": Unauthenticated,
    "forbidden": Forbidden,
    "not_found": NotFound,
    "bad_input": BadUserInput,
}
