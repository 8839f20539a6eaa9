"""The published panorama at ``/panorama/``: the static files ``pilot publish`` writes, or,
before the first publication, a French page saying so (404), never an error."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

NOT_PUBLISHED = """<!doctype html>
<html lang="fr" data-fr-scheme="light">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>Pas encore publié – Panorama des grands projets numériques de l'État</title>
  {stylesheet}
</head>
<body>
  <header role="banner" class="fr-header">
    <div class="fr-header__body">
      <div class="fr-container">
        <div class="fr-header__body-row">
          <div class="fr-header__brand">
            <div class="fr-header__brand-top">
              <div class="fr-header__logo"><p class="fr-logo">République<br>Française</p></div>
            </div>
            <div class="fr-header__service">
              <p class="fr-header__service-title">Panorama des grands projets numériques
                de l'État</p>
            </div>
          </div>
        </div>
      </div>
    </div>
  </header>
  <main role="main" id="contenu">
    <div class="fr-container fr-py-6w">
      <h1>Le panorama n'a pas encore été publié</h1>
      <p class="fr-text--lead">Le panorama des grands projets numériques de l'État n'a pas
        encore été publié sur ce serveur. Merci de revenir un peu plus tard.</p>
      <p>Vous administrez PILOT ? La commande <code>pilot publish</code> publie la première
        édition.</p>
    </div>
  </main>
</body>
</html>
"""


class PublishedSite:
    """An ASGI app serving ``directory`` (``index.html`` for folders); before anything is
    published there (no ``index.html`` at its root), the home page, and every page when the
    folder does not exist yet, is the French "not yet published" page."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files = StaticFiles(directory=directory, html=True, check_dir=False)

    def _published(self, path: str) -> tuple[bool, bool]:
        """Whether the site is published (its home exists), and whether DSFR is there."""
        home = (self.directory / "index.html").is_file()
        if not home and not self.directory.is_dir():
            return False, False
        dsfr = (self.directory / "dsfr" / "dsfr.min.css").is_file()
        return home or path.strip("/") not in ("", "index.html"), dsfr

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if path.startswith(root):  # Starlette's mounts keep the full path in "path"
            path = path[len(root) :]
        published, dsfr = await run_in_threadpool(self._published, path)
        if published:
            await self.files(scope, receive, send)
            return
        stylesheet = f'<link rel="stylesheet" href="{root}/dsfr/dsfr.min.css">' if dsfr else ""
        page = NOT_PUBLISHED.format(stylesheet=stylesheet)
        await HTMLResponse(page, status_code=404)(scope, receive, send)
