"""RQ entry points: ids in, a service call, failures recorded in SQL."""

from .services import imports


def run_import(import_id: int) -> dict:
    """Run import *import_id* to a terminal status and return its counts."""
    return imports.run_import(import_id)


def record_failure(job, connection, exc_type, exc_value, traceback) -> None:
    """Mark the import failed when its job dies in a way the job itself could not catch."""
    import_id = (job.meta or {}).get("import_id")
    if import_id is not None:
        imports.mark_failed_if_running(import_id, f"The import job failed: {exc_type.__name__}.")
