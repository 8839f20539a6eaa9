"""The published site in headless Chromium: no console error, no broken link or image,
and no serious or critical accessibility violation (axe-core)."""

from __future__ import annotations

import functools
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
from sqlmodel import Session, select

from pilot.db import get_engine
from pilot.projects.models import Project
from scorecards.publish import publish_draft, publish_edition
from tests.scorecards.cdp import Browser, chromium_path
from tests.scorecards.conftest import PUBLISHED_ON

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed"),
]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the browser may drop a connection it no longer needs


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


AXE_RUN = """
axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help,
  targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))
})))
"""
LINKS = """
({
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  images: Array.from(document.images).map(i => ({src: i.currentSrc || i.src,
                                                 ok: i.complete && i.naturalWidth > 0})),
  lang: document.documentElement.lang,
  h1: document.querySelectorAll('h1').length
})
"""


def test_the_site_is_clean_and_accessible_in_chromium(
    demo: Session, served: tuple[Path, str]
) -> None:
    site, base = served
    number = publish_edition(get_engine(), site, published_on=PUBLISHED_ON).number
    # The draft is DINUM's (served by the app to DINUM only): here it is laid out where
    # the app serves it, /panorama/brouillon/, to check its pages too.
    publish_draft(demo, site, today=date(2026, 11, 3), draft_root=site / "brouillon")
    pnr = demo.exec(select(Project).where(Project.name == "PNR")).one()
    vitam = demo.exec(select(Project).where(Project.name == "VITAM")).one()
    pages = [
        "index.html",
        "archives.html",
        f"editions/{number}/index.html",
        f"editions/{number}/projets/{pnr.pilot_id}.html",
        f"editions/{number}/projets/{vitam.pilot_id}.html",
        "brouillon/index.html",
    ]
    axe = AXE.read_text(encoding="utf-8")
    checked: dict[str, int] = {}
    problems: list[str] = []
    browser = Browser()
    try:
        for page in pages:
            browser.open(base + page)
            found = browser.evaluate(LINKS)
            assert found["lang"] == "fr", page
            assert found["h1"] == 1, page
            problems += [f"{page}: console: {e}" for e in browser.console_errors()]
            problems += [f"{page}: image {i['src']}" for i in found["images"] if not i["ok"]]
            for link in found["links"]:
                url = urldefrag(link).url
                if urlsplit(url).netloc != urlsplit(base).netloc:
                    continue  # external sites are not ours to check
                if url not in checked:
                    checked[url] = _status(url)
                if checked[url] != 200:
                    problems.append(f"{page}: broken link {url} ({checked[url]})")
            browser.evaluate(axe)
            for v in browser.evaluate(AXE_RUN, await_promise=True):
                if v["impact"] in ("serious", "critical"):
                    problems.append(f"{page}: axe {v['id']} ({v['impact']}) {v['targets']}")
        # Sorting and searching work from the keyboard-reachable controls.
        browser.open(base + f"editions/{number}/index.html")
        sorted_first = browser.evaluate(
            "document.querySelectorAll('#projets-table thead button')[3].click();"
            "document.querySelectorAll('#projets-table thead button')[3].click();"
            "document.querySelector('#projets-table tbody tr th').dataset.value"
        )
        assert sorted_first  # the most expensive project comes first
        shown = browser.evaluate(
            "const i = document.getElementById('recherche-projet');"
            "i.value = 'PNR'; i.dispatchEvent(new Event('input'));"
            "new Promise(r => setTimeout(() => r(Array.from("
            "document.querySelectorAll('#projets-table tbody tr')).filter(t => !t.hidden).length),"
            " 400))",
            await_promise=True,
        )
        assert shown >= 1
    finally:
        browser.close()
    assert len(checked) > 70
    assert not problems, "\n".join(problems)
