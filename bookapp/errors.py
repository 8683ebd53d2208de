"""Error pages for people and JSON errors for scripts, never a traceback."""

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json")


def _too_large_message(app: Flask) -> str:
    limit = app.config.get("MAX_CONTENT_LENGTH") or 0
    return f"The upload is larger than the limit of {limit / 2**20:,.0f} MB. Split the file or ask an operator to raise the limit."


def register(app: Flask) -> None:
    """Install the error handlers on *app*."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        description = error.description
        if isinstance(error, RequestEntityTooLarge):
            description = _too_large_message(app)
        if _wants_json():
            return jsonify({"error": {"status": error.code, "title": error.name, "message": description}}), error.code
        return render_template("errors/error.html", error=error, description=description), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("unhandled error on %s", request.path)
        return http_error(InternalServerError(description="Something went wrong on our side. It has been logged."))
