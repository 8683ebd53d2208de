"""Import profiles in the browser: list, rename, edit (the matching controls, against the header row the
profile was saved for) and delete."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ..auth import staff_required
from ..extensions import db
from ..importer import Mapping, MappingError
from ..importer.matching import from_form, from_mapping
from ..models import Import, ImportProfile
from ..services.profiles import ProfileError, update_profile
from .blueprint import bp
from .columns import live_parts
from .context import matching_context


def get_profile(profile_id: int) -> ImportProfile:
    """Return the profile, or 404."""
    return db.get_or_404(ImportProfile, profile_id, description=f"There is no import profile {profile_id}.")


@bp.get("/imports/profiles")
@staff_required
def profiles():
    """List the saved profiles, by name, with how many imports each has read."""
    rows = db.session.execute(
        select(ImportProfile, func.count(Import.id))
        .outerjoin(Import, Import.profile_id == ImportProfile.id)
        .group_by(ImportProfile.id)
        .order_by(ImportProfile.name)
    ).all()
    return render_template("imports/profiles.html", rows=rows)


@bp.route("/imports/profiles/<int:profile_id>", methods=["GET", "POST"])
@staff_required
def profile(profile_id: int):
    """Edit a profile's matches; Save keeps them (checked against the profile's own header row)."""
    saved = get_profile(profile_id)
    headers = list(saved.headers or [])
    error = None
    status = 200
    if request.method == "POST":
        choices = from_form(request.form, headers)
        if request.form.get("action") == "save":
            context = matching_context(headers, choices, None, with_preview=False)
            error = context["reason"]
            if not error:
                try:
                    update_profile(saved, mapping=choices.as_json())
                except ProfileError as exc:
                    error = str(exc)
                else:
                    flash(f"Profile {saved.name!r} saved.", "info")
                    return redirect(url_for("matching.profiles"))
            status = 400
    else:
        try:
            choices = from_mapping(Mapping.from_json(saved.mapping), headers)
        except MappingError as exc:  # saved by an older release, say: start from the header alone
            choices = from_mapping(Mapping(), headers)
            error = f"The saved matches cannot be read ({exc}); match the columns again."
    context = matching_context(headers, choices, None, with_preview=False)
    return render_template("imports/profile.html", saved=saved, error=error, **context), status


@bp.post("/imports/profiles/<int:profile_id>/check")
@staff_required
def profile_check(profile_id: int):
    """Answer the edit page's script: whether Save can be pressed (and why not)."""
    saved = get_profile(profile_id)
    headers = list(saved.headers or [])
    context = matching_context(headers, from_form(request.form, headers), None, with_preview=False)
    return jsonify(live_parts(context))


@bp.post("/imports/profiles/<int:profile_id>/rename")
@staff_required
def rename_profile(profile_id: int):
    """Give a profile another name."""
    saved = get_profile(profile_id)
    old = saved.name
    try:
        update_profile(saved, name=request.form.get("name", ""))
    except ProfileError as exc:
        db.session.rollback()
        flash(f"Not renamed: {exc}", "error")
    else:
        flash(f"Profile {old!r} renamed {saved.name!r}.", "info")
    return redirect(url_for("matching.profiles"))


@bp.post("/imports/profiles/<int:profile_id>/delete")
@staff_required
def delete_profile(profile_id: int):
    """Delete a profile; the imports read with it keep their own copy of its matches."""
    saved = get_profile(profile_id)
    name = saved.name
    db.session.delete(saved)
    db.session.commit()
    flash(f"Profile {name!r} deleted.", "info")
    return redirect(url_for("matching.profiles"))
