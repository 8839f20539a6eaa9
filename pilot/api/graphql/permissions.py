"""Access in GraphQL, from the one access table (``pilot.auth.access``).

Resolvers never test roles themselves; they call :func:`require` (raises), :func:`allows`
(a yes/no for fields that are withheld rather than refused) and :func:`visible_projects`
(the SQL condition every project query starts from).

A ministry token asking for another ministry's project or import gets NOT_FOUND, the
same answer as for one that does not exist. A role that can never do something gets
FORBIDDEN (UNAUTHENTICATED when no token was given).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from pilot.api.graphql.errors import Forbidden, NotFound, Unauthenticated
from pilot.auth.access import (  # noqa: F401  (re-exported for the resolvers)
    GRANTS,
    MINISTRY_SCOPED,
    Action,
    allows,
)
from pilot.auth.models import Role
from pilot.auth.service import Principal
from pilot.projects.models import Project

NOT_FOUND_PROJECT = "Projet introuvable : « {} »."

PUBLIC_MARK = "Public:"


def public(description: str) -> str:
    """The SDL description of a type or field anyone may read without a token: published
    editions only (a test walks every field so marked and checks it reads frozen data)."""
    return f"{PUBLIC_MARK} {description}"


def is_global(principal: Principal) -> bool:
    """True for the roles that see every ministry."""
    return principal.role in (Role.DINUM, Role.ADMIN)


def require(
    principal: Principal,
    action: Action,
    ministry_id: int | None = None,
    *,
    not_found: str = "Ressource introuvable.",
) -> None:
    """Raise unless ``principal`` may perform ``action`` (on ``ministry_id``'s data)."""
    if action not in GRANTS[principal.role]:
        if principal.role == Role.PUBLIC:
            raise Unauthenticated()
        raise Forbidden()
    if not allows(principal, action, ministry_id):
        raise NotFound(not_found)


def can_see_project(principal: Principal, project: Project) -> bool:
    """Live projects need a token: the public reads published editions only."""
    return allows(principal, Action.READ_PROJECT, project.ministry_id)


def can_see_figures(principal: Principal, project: Project) -> bool:
    """A live project's figures: its own ministry, DINUM and admin (who may all read a
    confidential project's figures; only publications withhold them)."""
    return allows(principal, Action.READ_FIGURES, project.ministry_id)


def visible_projects(principal: Principal) -> ColumnElement[bool]:
    """The SQL condition selecting the projects ``principal`` may list."""
    if principal.role == Role.PUBLIC:
        return false()
    if principal.role == Role.MINISTRY:
        return Project.ministry_id == principal.ministry_id  # type: ignore[return-value]
    return true()


def figures_visible(principal: Principal) -> ColumnElement[bool]:
    """The SQL condition on projects whose figures ``principal`` may filter or sort on
    (every project it may list: the public lists none)."""
    return visible_projects(principal)
