"""The matching pages' blueprint (shared by its modules)."""

from flask import Blueprint

bp = Blueprint("matching", __name__)
