"""Web accounts: an e-mail address (the ``email`` claim of ProConnect) mapped to a role and,
for a ministry, its ministry. Managed by an admin (``pilot account``, the admin page);
every change is audited with who made it."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from pilot.audit import service as audit
from pilot.auth.models import Account, Role
from pilot.auth.service import Principal
from pilot.ministries.models import Ministry
from pilot.timeutil import utcnow

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    """An account cannot be created or changed (French message)."""


def normalize_email(email: str) -> str:
    """The stored form of an address: trimmed, lower-case; refused when not an address."""
    value = email.strip().lower()
    if not _EMAIL.match(value) or len(value) > 320:
        raise AccountError(f"Adresse électronique invalide : « {email.strip()} ».")
    return value


def create_account(
    session: Session, *, email: str, role: Role, ministry: Ministry | None, actor: str
) -> Account:
    if role == Role.PUBLIC:
        raise AccountError("Un compte a le rôle ministry, dinum ou admin.")
    if role == Role.MINISTRY and ministry is None:
        raise AccountError("Un compte ministériel doit désigner son ministère (--ministry).")
    if role != Role.MINISTRY and ministry is not None:
        raise AccountError("Seul un compte ministériel désigne un ministère.")
    address = normalize_email(email)
    if find_account(session, address) is not None:
        raise AccountError(f"Un compte existe déjà pour {address}.")
    account = Account(email=address, role=role.value, ministry_id=ministry.id if ministry else None)
    session.add(account)
    session.flush()
    label = f"{address} ({role.value}{' ' + ministry.code if ministry else ''})"
    audit.record(session, actor=actor, action="create", obj=account, project_id=None, new=label)
    return account


def find_account(session: Session, email: str) -> Account | None:
    address = email.strip().lower()
    return session.exec(select(Account).where(Account.email == address)).first()


def list_accounts(session: Session) -> list[Account]:
    return list(session.exec(select(Account).order_by(col(Account.email))))


def set_disabled(session: Session, account: Account, *, disabled: bool, actor: str) -> bool:
    """Disable (or enable again) an account; returns whether anything changed."""
    changed = audit.record_changes(
        session, actor=actor, obj=account, project_id=None, changes={"disabled": disabled}
    )
    session.flush()
    return changed > 0


def login(session: Session, email: str, *, name: str | None) -> Account | None:
    """The enabled account of a verified e-mail address, its name and last login updated;
    ``None`` for an unknown or disabled address."""
    account = find_account(session, email)
    if account is None or account.disabled:
        return None
    if name:
        account.name = name[:200]
    account.last_login_at = utcnow()
    session.flush()
    return account


def principal_of(account: Account) -> Principal:
    """Who a logged-in person is for the access rules; the audit names them by e-mail."""
    return Principal(role=Role(account.role), ministry_id=account.ministry_id, name=account.email)
