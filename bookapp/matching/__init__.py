"""Match an upload's columns to the book fields (and its Book type values to the types), and keep the
matches as import profiles: the browser side of reading the files people already have."""

from . import columns, profiles  # noqa: F401  (their routes join the blueprint)
from .blueprint import bp

__all__ = ["bp"]
