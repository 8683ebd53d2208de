"""Import profiles in the API: list, read, create, change and delete saved mappings."""

import json

from flask import abort, g, jsonify, request, url_for
from sqlalchemy import select

from ..extensions import db
from ..importer import FileProblem, Mapping, MappingError
from ..importer.mapping import header_text
from ..models import ImportProfile
from ..services.profiles import ProfileError, profile_json, save_profile, update_profile
from .tokens import bp, token_required


def _profile_or_404(profile_id: int) -> ImportProfile:
    return db.get_or_404(ImportProfile, profile_id, description=f"There is no import profile {profile_id}.")


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="Send a JSON object.")
    return body


def mapping_from_request() -> Mapping | None:
    """Read the `mapping` form field of an upload (a JSON text) or answer 400 saying what is wrong."""
    text = request.form.get("mapping")
    if text is None or not text.strip():
        return None
    try:
        return Mapping.from_json(json.loads(text), as_typed=True)
    except json.JSONDecodeError as exc:
        abort(400, description=f"mapping is not valid JSON: {exc.msg} (at character {exc.pos}).")
    except MappingError as exc:
        abort(400, description=f"mapping: {exc}")


@bp.get("/profiles")
@token_required
def list_profiles():
    """Return every import profile, by name."""
    profiles = db.session.scalars(select(ImportProfile).order_by(ImportProfile.name))
    return jsonify({"items": [profile_json(p) for p in profiles]})


@bp.get("/profiles/<int:profile_id>")
@token_required
def get_profile(profile_id: int):
    """Return one import profile."""
    return jsonify(profile_json(_profile_or_404(profile_id)))


@bp.post("/profiles")
@token_required
def create_profile():
    """Save a mapping for files with the given header row: {"name", "headers", "mapping"}; 201."""
    body = _body()
    headers = body.get("headers")
    if not isinstance(headers, list) or not headers or not all(isinstance(h, (str, type(None))) for h in headers):
        abort(400, description="headers must be the file's header row: a list of texts.")
    try:
        mapping = Mapping.from_json(body.get("mapping"), as_typed=True)
        mapping.header_map([header_text(h) for h in headers])
        profile = save_profile(body.get("name", ""), headers, mapping, g.api_user)
    except MappingError as exc:
        abort(400, description=f"mapping: {exc}")
    except ProfileError as exc:
        abort(400, description=str(exc))
    except FileProblem as problem:  # the mapping does not fit the header row
        abort(422, description=problem.message)
    db.session.commit()
    response = jsonify(profile_json(profile))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_profile", profile_id=profile.id)
    return response


@bp.put("/profiles/<int:profile_id>")
@token_required
def change_profile(profile_id: int):
    """Rename a profile or replace its mapping: {"name"} and/or {"mapping"}."""
    profile = _profile_or_404(profile_id)
    body = _body()
    try:
        update_profile(profile, name=body.get("name"), mapping=body.get("mapping"))
    except ProfileError as exc:
        abort(422, description=str(exc))
    return jsonify(profile_json(profile))


@bp.delete("/profiles/<int:profile_id>")
@token_required
def delete_profile(profile_id: int):
    """Delete a profile; imports read with it keep their own copy of its mapping."""
    profile = _profile_or_404(profile_id)
    db.session.delete(profile)
    db.session.commit()
    return "", 204
