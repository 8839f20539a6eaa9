"""Archiving received files: all or nothing, never a half-written file.

``archive_bytes(data, folder)`` writes the bytes under their SHA-256 (the same bytes are
stored once), through a temporary file in the same folder that is flushed, fsynced and
renamed atomically; the folder is fsynced too. On any OS error (disk full, quota, file
too large, permissions) the temporary file is removed and a French ``StorageError`` is
raised: the caller refuses the upload cleanly, and nothing partial is left behind.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path


class StorageError(OSError):
    """The file could not be archived (French message)."""


_REASONS = {
    errno.ENOSPC: "le disque est plein",
    errno.EDQUOT: "le quota disque est atteint",
    errno.EFBIG: "le fichier dépasse la taille permise par le système",
    errno.EACCES: "l'accès au dossier d'archives est refusé",
    errno.EROFS: "le dossier d'archives est en lecture seule",
}


def archive_bytes(data: bytes, folder: Path, *, suffix: str = "") -> Path:
    """Store ``data`` as ``folder/<sha256><suffix>`` and return that path."""
    target = folder / f"{hashlib.sha256(data).hexdigest()}{suffix}"
    temporary: str | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if target.exists() and target.stat().st_size == len(data):
            return target  # already archived: content-addressed
        handle, temporary = tempfile.mkstemp(prefix=".incoming-", dir=folder)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
        temporary = None
        _fsync_folder(folder)
        return target
    except OSError as error:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        reason = _REASONS.get(error.errno or 0, "erreur d'écriture")
        raise StorageError(
            error.errno,
            f"Le fichier n'a pas pu être archivé ({reason}) ; il n'a pas été enregistré. "
            "Réessayez plus tard ou prévenez l'équipe PILOT.",
        ) from error


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
