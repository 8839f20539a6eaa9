"""The web spaces as their users work with them, in headless Chromium, logging in through a
real OpenID Connect provider on loopback: a ministry agent downloads the prefilled
workbook, sends a faulty one, reads the findings, fixes the file, applies it (from the
keyboard) and sees the project updated; they log out (at the provider too); a DINUM
officer marks the project confidential (from the keyboard) and previews the edition; an
admin opens the accounts and tokens pages. axe-core reports no serious or critical
violation on any page of PILOT's."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pilot.jobs.service import run_due
from pilot.opinions.clock import today_in_paris
from tests.scorecards.cdp import Browser, chromium_path
from tests.web.conftest import MI_PROJECT, Web, needs_node

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = [
    needs_node,
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed"),
]

AXE_RUN = """
axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({
  id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))
})))
"""
FINDINGS = """Array.from(document.querySelectorAll('#anomalies tbody tr'))
  .map(tr => Array.from(tr.cells).map(c => c.textContent.trim()))"""
DOWNLOAD = """fetch('/espace/classeur').then(r => r.arrayBuffer()).then(b => {
  const u = new Uint8Array(b); let s = '';
  for (let i = 0; i < u.length; i++) s += String.fromCharCode(u[i]);
  return btoa(s);
})"""
KEYS = {"Tab": ("Tab", 9, ""), "Enter": ("Enter", 13, "\r")}


class User:
    """A person in front of the browser: follows links, fills forms, uses the keyboard."""

    def __init__(self, browser: Browser, web: Web) -> None:
        self.b = browser
        self.web = web
        self.axe = AXE.read_text(encoding="utf-8")
        self.problems: list[str] = []
        self.pages: set[str] = set()

    def _loaded(self) -> None:
        if not any(e.get("method") == "Page.loadEventFired" for e in self.b.events):
            self.b.wait_for("Page.loadEventFired")
        time.sleep(0.2)
        self.check()

    def open(self, path: str) -> None:
        self.b.events.clear()
        self.b.call("Page.navigate", url=self.web.at(path))
        self._loaded()

    def act(self, script: str) -> None:
        """Run ``script`` (a click, a submit), then wait for the page it leads to."""
        self.b.events.clear()
        self.b.evaluate(script)
        self._loaded()

    def value(self, script: str) -> Any:
        return self.b.evaluate(script)

    def value_async(self, script: str) -> Any:
        return self.b.evaluate(script, await_promise=True)

    @property
    def path(self) -> str:
        return str(self.value("location.pathname"))

    def text(self) -> str:
        return str(self.value("document.body.innerText"))

    def key(self, name: str) -> None:
        key, code, text = KEYS[name]
        for kind in ("keyDown", "keyUp"):
            self.b.call(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=key,
                windowsVirtualKeyCode=code,
                **({"text": text} if text and kind == "keyDown" else {}),
            )

    def tab_to(self, selector: str, limit: int = 120) -> None:
        """Press Tab until the focus is on ``selector``: it is reachable by keyboard."""
        for _ in range(limit):
            self.key("Tab")
            if self.value(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"{selector} cannot be reached with the Tab key")

    def press_enter(self) -> None:
        self.b.events.clear()
        self.key("Enter")
        self._loaded()

    def check(self) -> None:
        """axe-core on each page of PILOT's (the provider's pages are not ours)."""
        if not str(self.value("location.href")).startswith(self.web.url):
            return
        self.pages.add(self.path)
        assert self.value("document.documentElement.lang") == "fr"
        assert self.value("document.querySelectorAll('h1').length") == 1, self.path
        self.b.evaluate(self.axe)
        for v in self.b.evaluate(AXE_RUN, await_promise=True):
            if v["impact"] in ("serious", "critical"):
                self.problems.append(f"{self.path}: axe {v['id']} ({v['impact']}) {v['targets']}")
        self.problems += [f"{self.path}: console: {e}" for e in self.b.console_errors()]

    def log_in(self, login: str) -> None:
        self.open("/")
        self.act("document.querySelector('a[href^=\"/connexion\"]').click()")
        assert not str(self.value("location.href")).startswith(self.web.url)  # the provider
        self.act(
            f"document.querySelector('input[name=login]').value = {login!r};"
            "document.querySelector('input[name=password]').value = 'mot de passe';"
            "document.querySelector('form').submit()"
        )
        if self.value("!!document.querySelector('input[value=consent]')"):
            self.act("document.querySelector('form button[type=submit]').click()")

    def log_out(self) -> None:
        self.act("document.querySelector('form[action=\"/deconnexion\"] button').click()")
        if not str(self.value("location.href")).startswith(self.web.url):
            self.act("document.querySelector('button[name=logout]').click()")  # the provider
        assert self.path == "/deconnexion"
        assert "Vous êtes déconnecté" in self.text()

    def upload(self, path: Path) -> None:
        """Choose ``path`` in the space's upload form, and send it."""
        self.open("/espace/")
        document = self.b.call("DOM.getDocument")
        node = self.b.call(
            "DOM.querySelector", nodeId=document["root"]["nodeId"], selector="#fichier"
        )
        self.b.call("DOM.setFileInputFiles", files=[str(path)], nodeId=node["nodeId"])
        self.act("document.querySelector('#depot button[type=submit]').click()")


def _edit(workbook: bytes, pilot_id: str, changes: dict[str, object], target: Path) -> Path:
    """The workbook with ``changes`` (header → value) made on the project's row."""
    book = openpyxl.load_workbook(io.BytesIO(workbook))
    sheet = book["Projets"]
    for header_row in sheet.iter_rows(max_row=10):
        headers = {str(c.value).strip(): c.column for c in header_row if c.value}
        if "Météo" in headers:
            break
    else:
        raise AssertionError("no header row in the Projets sheet")
    for row in sheet.iter_rows():
        if any(c.value == pilot_id for c in row):
            for header, value in changes.items():
                sheet.cell(row=row[0].row, column=headers[header], value=value)
            break
    else:
        raise AssertionError(f"{pilot_id} is not in the workbook")
    book.save(target)
    return target


def test_agents_work_in_their_spaces_with_a_browser_and_the_keyboard(
    web: Web, tmp_path: Path
) -> None:
    browser = Browser()
    user = User(browser, web)
    try:
        # A ministry agent logs in with the provider and lands in their space.
        user.log_in("agent-mi")
        assert user.path == "/espace/"
        assert MI_PROJECT in user.text()

        # The prefilled workbook, sent back with a météo that does not exist.
        original = base64.b64decode(user.value_async(DOWNLOAD))
        faulty = _edit(original, web.mi_project, {"Météo": "pluie"}, tmp_path / "faute.xlsx")
        user.upload(faulty)
        assert user.path.startswith("/espace/imports/")
        findings = user.value(FINDINGS)
        assert any("pluie" in row and "Projets" in row for row in findings), findings
        assert "Confirmer l'import" not in user.text()

        # Fixed, checked again (nothing changes yet), then applied from the keyboard.
        fixed = _edit(
            original,
            web.mi_project,
            {"Météo": "orage", "Coût actualisé (€)": 150_000_000},
            tmp_path / "corrige.xlsx",
        )
        user.upload(fixed)
        assert "aucune erreur" in user.text()
        user.tab_to("form[action$='/appliquer'] button")
        user.press_enter()
        assert "Le classeur a été importé" in user.text()

        # The project is updated in the space; the history shows both imports.
        user.open("/espace/")
        row = user.value(
            "Array.from(document.querySelectorAll('tbody tr')).map(r => r.innerText)"
            f".find(t => t.includes({MI_PROJECT!r}))"
        )
        assert "Orage" in row, row
        user.open(f"/espace/projets/{web.mi_project}")
        assert "150,0" in user.text() and "agent@interieur.gouv.fr" in user.text()
        user.open("/espace/imports/")
        assert user.value("document.querySelectorAll('tbody tr').length") >= 3
        user.log_out()

        # A DINUM officer makes the project confidential, from the keyboard.
        user.log_in("pilotage")
        assert user.path == "/pilotage/"
        user.open(f"/pilotage/projets/{web.mi_project}")
        user.tab_to("#motif")
        browser.call("Input.insertText", text="Appel d'offres en cours")
        user.tab_to("form[action$='/confidentialite'] button")
        user.press_enter()
        page = user.text()
        assert "Décision enregistrée" in page, (user.value("location.href"), page[-3000:])
        assert "confidentiel" in page.lower()
        assert "pilotage@numerique.gouv.fr" in page  # the audit trail names the person

        # The campaign page and the portfolio by early-warning score.
        user.open("/pilotage/campagne")
        assert "Aucune campagne n'est ouverte" in user.text()
        user.open("/pilotage/?tri=alerte-precoce")

        # The import's follow-up (the job queue: the scheduler's work) recorded its alerts.
        run_due(web.engine)
        user.open("/pilotage/alertes?type=health_red")
        assert "Santé passée au rouge" in user.text() and MI_PROJECT in user.text()

        # The edition's preview says what is withheld, by name.
        user.open("/pilotage/publication")
        assert MI_PROJECT in user.value("document.getElementById('retenus').innerText")
        assert "Chiffres clés" in user.text()
        user.log_out()

        # The admin's pages.
        user.log_in("admin")
        user.open("/administration/")
        user.open("/administration/jetons")
        user.log_out()
    finally:
        browser.close()
    assert {
        "/",
        "/espace/",
        "/espace/imports/",
        "/pilotage/",
        "/pilotage/publication",
        "/pilotage/campagne",
        "/pilotage/alertes",
        "/administration/",
        "/administration/jetons",
        "/deconnexion",
    } <= user.pages
    assert not user.problems, "\n".join(user.problems)


WIDTHS = (390, 1280)
SHOTS = ROOT / "var" / "screenshots" / "opinions"


def _at_both_widths(user: User, name: str) -> None:
    """The current page at 390 px and at a desktop width: axe-core at each, and a
    screenshot of each (var/screenshots/opinions/, to look at)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        user.b.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=900,
            deviceScaleFactor=1,
            mobile=width < 500,
        )
        user.check()
        shot = user.b.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        (SHOTS / f"{name}-{width}.png").write_bytes(base64.b64decode(shot["data"]))
    user.b.call("Emulation.clearDeviceMetricsOverride")


def _check_history(user: User) -> None:
    """The project page's history of the recommendation: opened with the opinion, then
    closed today by the ministry, with its comment."""
    rows = user.value(
        "Array.from(document.querySelectorAll('table'))"
        ".find(t => t.caption && t.caption.innerText.includes('Historique des recommandations'))"
        ".querySelectorAll('tbody tr').length"
    )
    text = user.value(
        "Array.from(document.querySelectorAll('table'))"
        ".find(t => t.caption && t.caption.innerText.includes('Historique des recommandations'))"
        ".innerText"
    )
    assert rows == 2, text
    assert "Ouverte" in text and "Close" in text and "Architecte recruté." in text, text
    assert today_in_paris().strftime("%d/%m/%Y") in text, text


def test_a_request_for_dinums_opinion_from_saisine_to_a_closed_recommendation(
    web: Web, tmp_path: Path
) -> None:
    browser = Browser()
    user = User(browser, web)
    file = tmp_path / "dossier-cadrage.pdf"
    file.write_bytes(b"%PDF-1.4\n% dossier de cadrage\n")
    try:
        # The ministry sees its project flagged and opens a request from its space.
        user.log_in("agent-mi")
        user.open("/espace/avis/")
        assert "irrégulier" in user.text().lower() and MI_PROJECT in user.text()
        _at_both_widths(user, "espace-avis")
        form = (
            f"document.querySelector('form[action=\"/espace/projets/{web.mi_project}/saisine\"]')"
        )
        user.act(f"{form}.objet.value = 'Passage en réalisation'; {form}.submit()")
        assert user.path.startswith("/espace/avis/saisines/")
        request_path = user.path
        document = browser.call("DOM.getDocument")
        node = browser.call(
            "DOM.querySelector", nodeId=document["root"]["nodeId"], selector="#document"
        )
        browser.call("DOM.setFileInputFiles", files=[str(file)], nodeId=node["nodeId"])
        user.act("document.querySelector('form[action$=\"/documents\"]').submit()")
        assert "Le document est joint au dossier" in user.text()
        assert "dossier-cadrage.pdf" in user.text() and "en préparation" in user.text().lower()
        _at_both_widths(user, "espace-saisine")
        user.log_out()

        # DINUM receives the file and gives its opinion with one recommendation.
        user.log_in("pilotage")
        user.open("/pilotage/avis/")
        assert MI_PROJECT in user.text()
        dinum_path = request_path.replace("/espace/", "/pilotage/")
        user.open(dinum_path)
        user.act("document.querySelector('form[action$=\"/reception\"]').submit()")
        identity = user.value("document.querySelector('.pilot-identity').innerText")
        assert "pas encore" not in identity and "dossier complet reçu" in user.text().lower()
        _at_both_widths(user, "pilotage-saisine")
        fill = ["document.getElementById('sens-favourable_with_reservations').checked = true"]
        for axis in ("strategy", "finances", "governance", "delivery", "planning"):
            fill.append(f"document.getElementById('appreciation_{axis}').value = 'to_improve'")
            fill.append(f"document.getElementById('commentaire_{axis}').value = 'À suivre.'")
        fill += [
            "document.getElementById('recommandation_1').value = 'Recruter un architecte'",
            "document.getElementById('responsable_1').value = 'DNUM'",
            "document.getElementById('echeance_1').value = '2030-06-30'",
            "document.getElementById('avis').submit()",
        ]
        user.act(";".join(fill))
        page = user.text()
        assert "Avis favorable avec réserves" in page, page[-2000:]
        assert "Recruter un architecte" in page and "avis rendu" in page.lower()
        user.open("/pilotage/avis/")
        _at_both_widths(user, "pilotage-avis")
        user.open(f"/pilotage/projets/{web.mi_project}")
        assert "Dérive depuis l'avis" in user.text()
        user.log_out()

        # The ministry closes the recommendation from its space.
        user.log_in("agent-mi")
        user.open("/espace/avis/")
        user.act(
            "const f = document.querySelector('form[action*=\"/avis/recommandations/\"]');"
            "f.querySelector('select').value = 'closed';"
            "f.querySelector('input[name=\"commentaire\"]').value = 'Architecte recruté.';"
            "f.submit()"
        )
        assert "Le statut de la recommandation est enregistré" in user.text()
        row = user.value(
            "Array.from(document.querySelectorAll('tbody tr')).map(r => r.innerText)"
            ".find(t => t.includes('Recruter un architecte'))"
        )
        assert "Close" in row, row
        user.open(f"/espace/projets/{web.mi_project}")
        assert "Recruter un architecte" in user.text()
        _check_history(user)
        _at_both_widths(user, "espace-projet")
        user.log_out()

        # DINUM reads the same history on its project page.
        user.log_in("pilotage")
        user.open(f"/pilotage/projets/{web.mi_project}")
        _check_history(user)
        _at_both_widths(user, "pilotage-projet")
        user.log_out()
    finally:
        browser.close()
    assert not user.problems, "\n".join(user.problems)
