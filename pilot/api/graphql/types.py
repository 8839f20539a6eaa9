"""Types shared by every domain: money, counts, key figures, ministries, paging.

Money is exposed as integer euros in the ``Euros`` scalar (a JSON number: amounts exceed
GraphQL's 32-bit ``Int`` but fit in 53 bits) and as formatted French text."""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NewType

import strawberry
from graphql.error import GraphQLError

from pilot.api.graphql import permissions
from pilot.api.graphql.errors import BadUserInput
from pilot.config import Settings
from pilot.indicators.figures import Figures
from pilot.ministries.models import Ministry
from pilot.money import format_mdeur

if TYPE_CHECKING:
    Euros = int
else:
    Euros = NewType("Euros", int)


def parse_euros(value: Any) -> int:
    """An amount sent by a client, as ``int`` reads it; a value it cannot read is refused
    as a ``GraphQLError``, GraphQL's own refusal (a validation error in the document,
    BAD_USER_INPUT in a variable), not an unexpected exception."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError) as error:
        shown = str(value)[:40]
        raise GraphQLError(
            f"« {shown} » n'est pas un montant en euros : écrivez un nombre entier."
        ) from error


EUROS_SCALAR = strawberry.scalar(
    name="Euros",
    serialize=int,
    parse_value=parse_euros,
    description="An amount in integer euros (may exceed 32 bits; a JSON number).",
)


def ratio(value: Decimal | None) -> float | None:
    """A drift ratio for display (0.1234 = +12,34 %), rounded to 4 decimals."""
    return None if value is None else round(float(value), 4)


@strawberry.type(name="Ministry", description=permissions.public("A ministry: code and name"))
class MinistryType:
    id: strawberry.ID
    code: str
    name: str

    @classmethod
    def from_model(cls, m: Ministry) -> MinistryType:
        return cls(id=strawberry.ID(str(m.id)), code=m.code, name=m.name)


@strawberry.type(name="Count", description=permissions.public("A count in a distribution"))
class CountType:
    label: str
    count: int
    total_cost_eur: Euros | None = strawberry.field(
        default=None,
        description="Sum of the known current costs of these projects, in euros (live "
        "portfolio; null in an edition)",
    )


def counts(d: dict[str, int], costs: dict[str, int] | None = None) -> list[CountType]:
    if costs is None:
        return [CountType(label=k, count=v) for k, v in d.items()]
    return [CountType(label=k, count=v, total_cost_eur=costs.get(k, 0)) for k, v in d.items()]


@strawberry.type(name="Figures", description=permissions.public("Key figures and distributions"))
class FiguresType:
    projects: int
    interministerial: int
    total_cost_eur: Euros = strawberry.field(description="Sum of known costs, in euros")
    total_cost_bn: str = strawberry.field(description="Md€, 2 decimals, decimal point")
    total_cost_text: str = strawberry.field(description="French, e.g. « 2,29 Md€ »")
    mean_duration_years: str | None
    costed_projects: int
    by_ministry: list[CountType]
    by_phase: list[CountType]
    by_cost_bracket: list[CountType]
    by_functional_zone: list[CountType]

    @classmethod
    def from_figures(
        cls, f: Figures, costs: dict[str, dict[str, int]] | None = None
    ) -> FiguresType:
        """``costs``: the sum of known costs by distribution and label (live only)."""
        c = costs or {}
        return cls(
            projects=f.projects,
            interministerial=f.interministerial,
            total_cost_eur=f.total_cost_eur,
            total_cost_bn=str(f.total_cost_bn),
            total_cost_text=format_mdeur(f.total_cost_eur),
            mean_duration_years=None
            if f.mean_duration_years is None
            else str(f.mean_duration_years),
            costed_projects=f.costed_projects,
            by_ministry=counts(f.by_ministry, c.get("ministry")),
            by_phase=counts(f.by_phase, c.get("phase")),
            by_cost_bracket=counts(f.by_cost_bracket, c.get("cost_bracket")),
            by_functional_zone=counts(f.by_functional_zone, c.get("functional_zone")),
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


# --- Cursors ----------------------------------------------------------------------------
# A cursor is opaque to clients: base64 of [order, sort key, id]. Keyset pagination
# resumes strictly after (sort key, id), so pages stay stable and fast deep in a list.


def encode_cursor(order: str, key: Any, row_id: int) -> str:
    raw = json.dumps([order, key, row_id], separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, order: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        found_order, key, row_id = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError, binascii.Error) as error:
        raise BadUserInput("Curseur invalide : reprenez la pagination depuis le début.") from error
    if found_order != order or not isinstance(row_id, int):
        raise BadUserInput("Ce curseur a été produit pour un autre tri : reprenez au début.")
    return key, row_id


def page_size(first: int | None, settings: Settings) -> int:
    size = settings.graphql_default_page_size if first is None else first
    if size < 1 or size > settings.graphql_max_page_size:
        raise BadUserInput(
            f"« first » doit être compris entre 1 et {settings.graphql_max_page_size}."
        )
    return size
