"""A ministry's contacts: the addresses DINUM added and its enabled web accounts'
addresses, each once, in lower case; a disabled account and another ministry's are out."""

from __future__ import annotations

from sqlalchemy import Engine

from pilot.auth import accounts
from pilot.auth.models import Role
from pilot.campaigns import service as campaigns
from pilot.db import session_scope
from pilot.ministries import service as ministries
from tests.importers.workbook.conftest import Seed


def test_contacts_are_the_added_addresses_and_the_enabled_accounts_each_once(
    engine: Engine, seed: Seed
) -> None:
    with session_scope(engine, write=True) as s:
        mi = ministries.get_by_code(s, "MI")
        mj = ministries.get_by_code(s, "MJ")
        assert mi is not None and mi.id is not None and mj is not None
        for email in ("Agent@Interieur.gouv.fr", "bureau@interieur.gouv.fr"):
            campaigns.add_contact(s, ministry_code="MI", email=email, actor="test")
        for email, ministry in (
            ("agent@interieur.gouv.fr", mi),  # also added by DINUM: listed once
            ("second@interieur.gouv.fr", mi),
            ("parti@interieur.gouv.fr", mi),  # disabled below
            ("agent@justice.gouv.fr", mj),  # another ministry
        ):
            accounts.create_account(
                s, email=email, role=Role.MINISTRY, ministry=ministry, actor="t"
            )
        accounts.create_account(
            s, email="pilotage@numerique.gouv.fr", role=Role.DINUM, ministry=None, actor="t"
        )
    with session_scope(engine, write=True) as s:
        gone = accounts.find_account(s, "parti@interieur.gouv.fr")
        assert gone is not None
        accounts.set_disabled(s, gone, disabled=True, actor="t")
    with session_scope(engine) as s:
        assert campaigns.contacts_of(s, mi.id) == [
            "agent@interieur.gouv.fr",
            "bureau@interieur.gouv.fr",
            "second@interieur.gouv.fr",
        ]
