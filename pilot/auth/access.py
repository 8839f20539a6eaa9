"""Who may do what: the one access table, for every channel (GraphQL, the HTTP routes,
the web pages, the command line's tokens). Channels turn an ``AccessDenied`` into their
own answer (401, 403, 404, or a GraphQL error code); they never test roles themselves.

| action | public | ministry | dinum | admin |
|---|---|---|---|---|
| read published editions (frozen rows, figures, differences, trends) | yes | yes | yes | yes |
| read a live project (identity, description), the ministries | — | own ministry | all | all |
| read its figures (cost, drift, reports, milestones…) | — | own | all | all |
| read risks, audit trail, imports, live portfolio | — | own | all | all |
| write project data (report, risk, milestone, re-baseline, workbook upload) | — | own | all | — |
| publish an edition | — | — | yes | — |
| mark a project confidential, lift it | — | — | yes | — |
| manage tokens and ministries | — | — | — | yes |
| read opinions (requests, clocks, files, opinions, recommendations, watch) | — | own | all | — |
| open a request for an opinion, add documents, answer for information | — | own | all | — |
| update a recommendation's status | — | own | all | — |
| run the procedure (file complete, information, observations, the opinion) | — | — | yes | — |

Admin reads none of the opinions' content (it administers, it does not steer).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from sqlmodel import Session

from pilot.auth.models import Role
from pilot.auth.service import Principal
from pilot.ministries import service as ministries
from pilot.ministries.models import Ministry


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
    READ_OPINIONS = "read_opinions"
    REQUEST_OPINION = "request_opinion"
    UPDATE_RECOMMENDATION = "update_recommendation"
    DECIDE_OPINION = "decide_opinion"


_READ = {
    Action.READ_PROJECT,
    Action.READ_FIGURES,
    Action.READ_RISKS,
    Action.READ_AUDIT,
    Action.READ_IMPORTS,
    Action.READ_LIVE_PORTFOLIO,
}
_OPINIONS = {Action.READ_OPINIONS, Action.REQUEST_OPINION, Action.UPDATE_RECOMMENDATION}
GRANTS: dict[Role, set[Action]] = {
    # The public reads only what was published: editions are frozen, nothing live.
    Role.PUBLIC: {Action.READ_PUBLISHED},
    Role.MINISTRY: _READ | _OPINIONS | {Action.READ_PUBLISHED, Action.WRITE_PROJECT},
    Role.DINUM: _READ
    | _OPINIONS
    | {
        Action.READ_PUBLISHED,
        Action.WRITE_PROJECT,
        Action.PUBLISH_EDITION,
        Action.DECIDE_CONFIDENTIALITY,
        Action.DECIDE_OPINION,
    },
    Role.ADMIN: _READ | {Action.READ_PUBLISHED, Action.ADMINISTER},
}
# Actions a ministry token may only perform on its own ministry's data.
MINISTRY_SCOPED = _READ | _OPINIONS | {Action.WRITE_PROJECT}

Refusal = Literal["unauthenticated", "forbidden", "not_found", "bad_input"]


class AccessDenied(Exception):
    """Refused; ``kind`` says how a channel answers, ``str(error)`` is French."""

    def __init__(self, kind: Refusal, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def allows(principal: Principal, action: Action, ministry_id: int | None = None) -> bool:
    if action not in GRANTS[principal.role]:
        return False
    if principal.role == Role.MINISTRY and action in MINISTRY_SCOPED and ministry_id is not None:
        return ministry_id == principal.ministry_id
    return True


def require_action(principal: Principal, action: Action) -> None:
    """Raise unless the principal's role may ever perform ``action``."""
    if action not in GRANTS[principal.role]:
        if principal.role == Role.PUBLIC:
            raise AccessDenied("unauthenticated", "Identifiez-vous : un jeton est nécessaire.")
        raise AccessDenied("forbidden", "Votre rôle ne permet pas cette action.")


def require_on(
    principal: Principal, action: Action, ministry_id: int, missing: str = "Introuvable."
) -> None:
    """Raise unless ``principal`` may perform ``action`` on data of ``ministry_id``: a role
    that never may is refused (``unauthenticated`` or ``forbidden``); a ministry acting on
    another ministry's data is told it does not exist (``not_found``, message ``missing``)."""
    require_action(principal, action)
    if not allows(principal, action, ministry_id):
        raise AccessDenied("not_found", missing)


def workbook_ministry(
    session: Session, principal: Principal, code: str | None, action: Action
) -> Ministry:
    """The ministry whose workbook ``principal`` downloads (``READ_PROJECT``) or uploads
    (``WRITE_PROJECT``), by every channel: a ministry's own (a code naming another is
    refused), any one named by ``code`` for the roles that see every ministry."""
    require_action(principal, action)
    if principal.role == Role.MINISTRY:
        own = session.get(Ministry, principal.ministry_id)
        if own is None or (code and ministries.get_by_code(session, code) != own):
            raise AccessDenied(
                "forbidden", "Ce jeton ne permet d'agir que pour son propre ministère."
            )
        return own
    if not code:
        raise AccessDenied("bad_input", "Indiquez le ministère du classeur (son code).")
    found = ministries.get_by_code(session, code)
    if found is None:
        raise AccessDenied("not_found", f"Ministère inconnu : « {code} ».")
    return found
