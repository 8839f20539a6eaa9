"""Who may do what: the one place where access is decided.

Resolvers never test roles themselves; they call :func:`require` (raises), :func:`allows`
(a yes/no for fields that are withheld rather than refused) and :func:`visible_projects`
(the SQL condition every project query starts from).

| action | public | ministry | dinum | admin |
|---|---|---|---|---|
| read published editions (frozen rows, figures, differences, trends) | yes | yes | yes | yes |
| read a live project (identity, description), the ministries | — | own ministry | all | all |
| read its figures (cost, drift, reports, milestones…) | — | own | all | all |
| read risks, audit trail, imports, live portfolio | — | own | all | all |
| write project data (report, risk, milestone, re-baseline, upload) | — | own | all | — |
| publish an edition | — | — | yes | — |
| mark a project confidential, lift it | — | — | yes | — |
| manage tokens and ministries | — | — | — | yes |

A ministry token asking for another ministry's project or import gets NOT_FOUND, the
same answer as for one that does not exist. A role that can never do something gets
FORBIDDEN (UNAUTHENTICATED when no token was given).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnElement, false, true

from pilot.api.graphql.errors import Forbidden, NotFound, Unauthenticated
from pilot.auth.models import Role
from pilot.auth.service import Principal
from pilot.projects.models import Project


class Action(StrEnum):
    READ_PUBLISHED = "read_published"
    READ_PROJECT = "read_project"
    READ_FIGURES = "read_figures"
    READ_RISKS = "read_risks"
    READ_AUDIT = "read_audit"
    READ_IMPORTS = "read_imports"
    READ_LIVE_PORTFOLIO = "read_live_portfolio"
    WRITE_PROJECT = "write_project"
    PUBLISH_EDITION = "publish_edition"
    DECIDE_CONFIDENTIALITY = "decide_confidentiality"
    ADMINISTER = "manage_tokens"


_READ = {
    Action.READ_PROJECT,
    Action.READ_FIGURES,
    Action.READ_RISKS,
    Action.READ_AUDIT,
    Action.READ_IMPORTS,
    Action.READ_LIVE_PORTFOLIO,
}
GRANTS: dict[Role, set[Action]] = {
    # The public reads only what was published: editions are frozen, nothing live.
    Role.PUBLIC: {Action.READ_PUBLISHED},
    Role.MINISTRY: _READ | {Action.READ_PUBLISHED, Action.WRITE_PROJECT},
    Role.DINUM: _READ
    | {
        Action.READ_PUBLISHED,
        Action.WRITE_PROJECT,
        Action.PUBLISH_EDITION,
        Action.DECIDE_CONFIDENTIALITY,
    },
    Role.ADMIN: _READ | {Action.READ_PUBLISHED, Action.ADMINISTER},
}
# Actions a ministry token may only perform on its own ministry's data.
MINISTRY_SCOPED = _READ | {Action.WRITE_PROJECT}

NOT_FOUND_PROJECT = "Projet introuvable : « {} »."

PUBLIC_MARK = "Public:"


def public(description: str) -> str:
    """The SDL description of a type or field anyone may read without a token: published
    editions only (a test walks every field so marked and checks it reads frozen data)."""
    return f"{PUBLIC_MARK} {description}"


def is_global(principal: Principal) -> bool:
    """True for the roles that see every ministry."""
    return principal.role in (Role.DINUM, Role.ADMIN)


def allows(principal: Principal, action: Action, ministry_id: int | None = None) -> bool:
    if action not in GRANTS[principal.role]:
        return False
    if principal.role == Role.MINISTRY and action in MINISTRY_SCOPED and ministry_id is not None:
        return ministry_id == principal.ministry_id
    return True


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


def scoped_ministry(principal: Principal, requested: int | None) -> int | None:
    """The ministry a listing is restricted to: a ministry token always its own."""
    if principal.role == Role.MINISTRY:
        return principal.ministry_id
    return requested
