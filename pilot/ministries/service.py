"""Resolve ministry codes and names, old or new, to the current ministry."""

from __future__ import annotations

from sqlmodel import Session, select

from pilot.ministries.models import Ministry, MinistryAlias
from pilot.text import clean_text, normalize_key

# Current ministries (2017 government) and the codes they replaced. Codes and names
# change with governments; a project keeps its history through these aliases.
REFERENCE_MINISTRIES: dict[str, str] = {
    "SPM": "Premier ministre",
    "MAA": "Ministère de l'Agriculture et de l'Alimentation",
    "MAr": "Ministère des Armées",
    "MC": "Ministère de la Culture",
    "MCAS": "Ministères Chargés des Affaires Sociales",
    "MEA": "Ministère de l'Europe et des Affaires étrangères",
    "MEF": "Ministères de l'Économie et des Finances",
    "MEN": "Ministère de l'Éducation nationale",
    "MI": "Ministère de l'Intérieur",
    "MJ": "Ministère de la Justice",
    "MTES": "Ministère de la Transition écologique et solidaire",
}
REFERENCE_ALIASES: dict[str, str] = {
    "MAAF": "MAA",
    "MINDEF": "MAr",
    "MCC": "MC",
    "MAEDI": "MEA",
    "MENESR": "MEN",
    "MEEM": "MTES",
}


class UnknownMinistry(LookupError):
    pass


def get_by_code(session: Session, code: str) -> Ministry | None:
    """The ministry whose current code, former code or name is ``code``."""
    key = normalize_key(code)
    if not key:
        return None
    alias = session.exec(select(MinistryAlias).where(MinistryAlias.key == key)).first()
    if alias is not None:
        return session.get(Ministry, alias.ministry_id)
    return session.exec(select(Ministry).where(Ministry.code == clean_text(code))).first()


def add_alias(session: Session, ministry: Ministry, alias: str) -> None:
    """Make ``alias`` (a code or a name) designate ``ministry``; idempotent."""
    key = normalize_key(alias)
    if not key:
        return
    existing = session.exec(select(MinistryAlias).where(MinistryAlias.key == key)).first()
    if existing is None:
        assert ministry.id is not None
        session.add(MinistryAlias(ministry_id=ministry.id, alias=clean_text(alias), key=key))
        session.flush()
    elif existing.ministry_id != ministry.id:
        raise ValueError(f"« {alias} » désigne déjà un autre ministère")


def create_ministry(session: Session, code: str, name: str) -> Ministry:
    ministry = Ministry(code=clean_text(code), name=clean_text(name))
    session.add(ministry)
    session.flush()
    add_alias(session, ministry, ministry.code)
    add_alias(session, ministry, ministry.name)
    return ministry


def _reference(session: Session, code: str) -> Ministry | None:
    current = REFERENCE_ALIASES.get(code, code)
    if current not in REFERENCE_MINISTRIES:
        return None
    ministry = session.exec(select(Ministry).where(Ministry.code == current)).first()
    if ministry is None:
        ministry = create_ministry(session, current, REFERENCE_MINISTRIES[current])
    if code != current:
        add_alias(session, ministry, code)
    return ministry


def resolve(
    session: Session, code: str | None, name: str | None = None, *, create: bool = True
) -> Ministry:
    """The current ministry for a code and/or full name as found in a file.

    Looks up aliases (codes and names, accent- and case-insensitively), then the
    reference list of codes that changed with governments; creates the ministry when
    ``create`` and nothing matches. A name seen for the first time becomes an alias.
    """
    code = clean_text(code or "")
    name = clean_text(name or "")
    ministry = (get_by_code(session, code) if code else None) or _reference(session, code)
    if ministry is None and name:
        ministry = get_by_code(session, name)
    if ministry is None:
        if not create or not (code or name):
            raise UnknownMinistry(code or name)
        ministry = create_ministry(session, code or name[:32], name or code)
    for alias in (code, name):
        if alias and get_by_code(session, alias) is None:
            add_alias(session, ministry, alias)
    return ministry


def list_ministries(session: Session) -> list[Ministry]:
    return list(session.exec(select(Ministry).order_by(Ministry.code)))
