"""Import profiles: a mapping saved under a name, found again by the header row of the next file."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..importer import FileProblem
from ..importer.mapping import Mapping, MappingError, header_key, header_text
from ..models import ImportProfile, User

#: The longest profile name.
MAX_NAME = 100


class ProfileError(ValueError):
    """A profile cannot be saved as asked; the message says why."""


#: The columns a rejected-rows download adds after the file's own (see reports.rejected_table).
REJECTED_DOWNLOAD_COLUMNS = ("row", "error")


def profile_for(headers: list[object]) -> ImportProfile | None:
    """Return the profile saved for files with this header row (the latest changed, if several).

    A rejected-rows download, fixed and uploaded again, finds the profile of the file it came from:
    its header is that file's with "row" and "error" after it."""
    keys = [header_key(headers)]
    tail = tuple(header_text(h).casefold() for h in headers[-len(REJECTED_DOWNLOAD_COLUMNS) :])
    if len(headers) > len(REJECTED_DOWNLOAD_COLUMNS) and tail == REJECTED_DOWNLOAD_COLUMNS:
        keys.append(header_key(headers[: -len(REJECTED_DOWNLOAD_COLUMNS)]))
    for key in keys:
        found = db.session.scalar(
            select(ImportProfile)
            .where(ImportProfile.header_key == key)
            .order_by(ImportProfile.updated_at.desc(), ImportProfile.id.desc())
            .limit(1)
        )
        if found is not None:
            return found
    return None


def profile_named(name: str) -> ImportProfile | None:
    """Return the profile called *name* (exactly, after trimming spaces)."""
    return db.session.scalar(select(ImportProfile).where(ImportProfile.name == name.strip()))


def clean_name(name: object) -> str:
    """Return a usable profile name or raise ProfileError."""
    text = " ".join(str(name or "").split())
    if not text:
        raise ProfileError("Give the profile a name.")
    if len(text) > MAX_NAME:
        raise ProfileError(f"A profile name may have at most {MAX_NAME} characters.")
    return text


def save_profile(name: str, headers: list[object], mapping: Mapping, user: User | None) -> ImportProfile:
    """Save *mapping* for files with *headers* under *name*, replacing a profile of that name.

    The caller commits."""
    name = clean_name(name)
    profile = profile_named(name)
    if profile is None:
        profile = ImportProfile(name=name, created_by=user)
        db.session.add(profile)
    profile.headers = [None if h is None else str(h) for h in headers]
    profile.header_key = header_key(headers)
    profile.mapping = mapping.to_json()
    db.session.flush()
    return profile


def update_profile(profile: ImportProfile, *, name: str | None = None, mapping: dict | None = None) -> None:
    """Rename a profile or change its mapping (checked against the profile's own header row); commits."""
    if name is not None:
        name = clean_name(name)
        other = profile_named(name)
        if other is not None and other.id != profile.id:
            raise ProfileError(f"There is already a profile called {name!r}.")
        profile.name = name
    if mapping is not None:
        try:
            parsed = Mapping.from_json(mapping, as_typed=True)
        except MappingError as exc:
            raise ProfileError(str(exc)) from None
        try:
            parsed.header_map(profile.headers)
        except FileProblem as problem:
            raise ProfileError(problem.message) from None
        profile.mapping = parsed.to_json()
    db.session.commit()


def profile_json(profile: ImportProfile) -> dict:
    """Return a profile as the API shows it."""
    return {
        "id": profile.id,
        "name": profile.name,
        "headers": profile.headers,
        "mapping": profile.mapping,
        "created_by": profile.created_by.email if profile.created_by else None,
        "created_at": profile.created_at.isoformat(),
        "updated_at": profile.updated_at.isoformat(),
    }
