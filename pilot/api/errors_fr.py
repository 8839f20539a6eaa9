"""FastAPI's request validation errors (422) in French.

FastAPI answers a request it cannot read (a missing file, a word where a number is
expected) with pydantic's English messages ("Field required"). ``install(app)`` replaces
that answer with the same shape (``{"detail": [{"loc", "msg", "type"}]}``, the
``HTTPValidationError`` of the OpenAPI contract) where each ``msg`` is a French sentence
naming the parameter. The value sent is not echoed back (it may be a whole file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

PLACES = {
    "body": "dans le corps de la requête",
    "query": "dans l'adresse",
    "path": "dans le chemin de l'adresse",
    "header": "dans les en-têtes",
    "cookie": "dans les cookies",
}

# pydantic's error types → French, with the error's context values ({ge}, {max_length}…).
MESSAGES = {
    "missing": "Ce paramètre est obligatoire.",
    "int_parsing": "Indiquez un nombre entier.",
    "int_type": "Indiquez un nombre entier.",
    "int_from_float": "Indiquez un nombre entier, sans décimales.",
    "float_parsing": "Indiquez un nombre.",
    "float_type": "Indiquez un nombre.",
    "decimal_parsing": "Indiquez un nombre.",
    "bool_parsing": "Indiquez « true » ou « false ».",
    "bool_type": "Indiquez « true » ou « false ».",
    "string_type": "Indiquez un texte.",
    "string_too_short": "Ce texte est trop court : au moins {min_length} caractère(s).",
    "string_too_long": "Ce texte est trop long : au plus {max_length} caractère(s).",
    "too_short": "Pas assez d'éléments : au moins {min_length}.",
    "too_long": "Trop d'éléments : au plus {max_length}.",
    "greater_than": "Indiquez une valeur supérieure à {gt}.",
    "greater_than_equal": "Indiquez une valeur supérieure ou égale à {ge}.",
    "less_than": "Indiquez une valeur inférieure à {lt}.",
    "less_than_equal": "Indiquez une valeur inférieure ou égale à {le}.",
    "literal_error": "Valeur non permise : choisissez parmi {expected}.",
    "enum": "Valeur non permise : choisissez parmi {expected}.",
    "date_parsing": "Indiquez une date au format AAAA-MM-JJ.",
    "date_from_datetime_parsing": "Indiquez une date au format AAAA-MM-JJ.",
    "datetime_parsing": "Indiquez une date et une heure (AAAA-MM-JJTHH:MM:SS).",
    "datetime_from_date_parsing": "Indiquez une date et une heure (AAAA-MM-JJTHH:MM:SS).",
    "json_invalid": "Le corps de la requête n'est pas un JSON valide.",
    "json_type": "Le corps de la requête n'est pas un JSON valide.",
    "model_attributes_type": "Le corps de la requête n'a pas la forme attendue.",
    "dict_type": "Indiquez un objet (dictionnaire).",
    "list_type": "Indiquez une liste.",
    "extra_forbidden": "Ce paramètre n'est pas attendu : retirez-le.",
    "url_parsing": "Indiquez une adresse valide.",
    "uuid_parsing": "Indiquez un identifiant valide.",
    "bytes_type": "Indiquez un fichier.",
    "value_error": "Valeur non valide.",
}
FALLBACK = "Valeur non valide."


def _where(loc: Sequence[Any]) -> str:
    """``("body", "file")`` → ``« file » (dans le corps de la requête)``."""
    if not loc:
        return ""
    place = PLACES.get(str(loc[0]))
    names = [str(part) for part in (loc[1:] if place else loc)]
    named = f"« {'.'.join(names)} »" if names else ""
    if place and named:
        return f"{named} ({place})"
    return named or (place or "")


def french_message(error: Mapping[str, Any]) -> str:
    """One pydantic error as a French sentence naming its parameter."""
    template = MESSAGES.get(str(error.get("type", "")), FALLBACK)
    context = {k: v for k, v in (error.get("ctx") or {}).items() if isinstance(k, str)}
    try:
        sentence = template.format(**context)
    except (KeyError, IndexError, ValueError):
        sentence = template if "{" not in template else FALLBACK
    where = _where(error.get("loc") or ())
    return f"{where} : {sentence}" if where else sentence


def french_errors(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in error.get("loc") or ()],
            "msg": french_message(error),
            "type": str(error.get("type", "value_error")),
        }
        for error in errors
    ]


async def _request_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return JSONResponse({"detail": french_errors(error.errors())}, status_code=422)


def install(app: FastAPI) -> None:
    """Answer the requests FastAPI cannot read with French messages (422, same shape)."""
    app.add_exception_handler(RequestValidationError, _request_validation_error)
