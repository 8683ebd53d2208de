"""Uploads the form refused as imported before, kept for a while so that "Import it again" needs no
second upload (a browser never keeps a file input's choice across a page load).

Each is two files in the upload folder's ``repeated/`` folder, named for a digest of its token (the
token itself, random and shown only in the page's form, is stored nowhere): the bytes, and what the
uploader chose. A kept upload is taken once, by the user who sent it, within
BOOKAPP_REPEAT_KEEP_MINUTES; it is deleted when taken, when its user has another file refused so, and
once that time has passed (every upload refused so, every take and every reconcile round sweeps)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)

#: The folder in the upload folder that holds them.
KEPT_FOLDER = "repeated"


class KeptUploadGone(Exception):
    """The token names no kept upload this user may take: forged, used, replaced or expired."""

    def __init__(self):
        minutes = current_app.config["REPEAT_KEEP_MINUTES"]
        super().__init__(
            "That file is no longer kept: it was imported already, replaced by a file refused later, or "
            f"kept more than {minutes:g} minutes, so nothing was imported. Choose the file again to import it."
        )


@dataclass(frozen=True)
class KeptUpload:
    """A kept upload, taken: its bytes moved to *path* (the caller's to store or delete), and what was
    recorded with them (the file's name, digest and size, the options chosen)."""

    path: Path
    about: dict


def _folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / KEPT_FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _paths(token: str) -> tuple[Path, Path]:
    """Return where the kept upload of *token* is: its bytes and its record (any text maps to a plain name)."""
    name = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
    folder = _folder()
    return folder / f"{name}.bytes", folder / f"{name}.json"


def keep_upload(temporary: Path, user_id: int | None, about: dict) -> str:
    """Keep the received file at *temporary* (moved, not copied) for *user_id*, with *about* (what a
    take needs to import it: plain JSON values); return the token that takes it. The user's earlier
    kept upload, and any past its time, go."""
    sweep_kept_uploads(replacing_user_id=user_id)
    token = secrets.token_urlsafe(32)
    data, record = _paths(token)
    os.replace(temporary, data)
    os.utime(data)  # its time counts from now, not from when the upload began
    # Written whole under another name, then renamed: a sweep or a take never reads half a record.
    writing = record.with_suffix(".json-part")
    with os.fdopen(os.open(writing, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        json.dump({"user_id": user_id, "about": about}, out)
    os.replace(writing, record)
    log.info("event=repeat-kept bytes=%s", data.stat().st_size)
    return token


def take_kept_upload(token: str, user_id: int | None) -> KeptUpload:
    """Take the kept upload of *token* for *user_id*, once: its bytes are moved to a new temporary name.

    Raises KeptUploadGone when there is none that user may take (another user's token is refused and
    left for its owner)."""
    data, record = _paths(token or "")
    try:
        kept = json.loads(record.read_text())
        expired = time.time() - data.stat().st_mtime > _keep_seconds()
    except (OSError, ValueError):
        raise KeptUploadGone() from None
    if kept.get("user_id") != user_id:
        raise KeptUploadGone()
    taken = data.parent.parent / f".{uuid.uuid4().hex}.part"
    try:
        os.rename(data, taken)  # of two takes at once, one moves it; the other finds it gone
    except OSError:
        raise KeptUploadGone() from None
    with contextlib.suppress(OSError):
        os.utime(taken)  # a partial upload from now (reconcile deletes old ones), not from when it was kept
    record.unlink(missing_ok=True)
    if expired:
        taken.unlink(missing_ok=True)
        raise KeptUploadGone()
    return KeptUpload(taken, kept["about"])


def sweep_kept_uploads(*, replacing_user_id: int | None = None) -> int:
    """Delete the kept uploads past BOOKAPP_REPEAT_KEEP_MINUTES, and those of *replacing_user_id* when
    given (a user's newer refused file replaces the older); return how many files went."""
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / KEPT_FOLDER
    if not folder.is_dir():
        return 0
    cutoff = time.time() - _keep_seconds()
    gone = []
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                gone.append(path)
            elif (
                replacing_user_id is not None
                and path.suffix == ".json"
                and json.loads(path.read_text()).get("user_id") == replacing_user_id
            ):
                gone += [path, path.with_suffix(".bytes")]
        except (OSError, ValueError):
            continue  # taken or swept meanwhile
    for path in gone:
        path.unlink(missing_ok=True)
    if gone:
        log.info("event=repeat-kept-deleted files=%s", len(gone))
    return len(gone)


def _keep_seconds() -> float:
    return current_app.config["REPEAT_KEEP_MINUTES"] * 60
