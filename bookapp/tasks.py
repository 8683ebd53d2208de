"""RQ entry points: ids in, a service call, failures recorded in SQL."""

from rq.exceptions import AbandonedJobError

from .services import column_profiles, runner


def run_import(import_id: int) -> dict:
    """Run import *import_id* to a terminal status and return its counts."""
    return runner.run_import(import_id)


def catch_up_indexes(import_id: int) -> None:
    """Bring the search and sort indexes up to the books import *import_id* saved."""
    runner.catch_up_indexes(import_id)


def record_failure(job, connection, exc_type, exc_value, traceback) -> None:
    """Handle a job that died where the job itself could not react (its work horse was killed).

    An import the job already marked failed is left as it is; one still running is given another
    attempt, which resumes after its last committed chunk (or failed past the attempt limit).
    """
    from .services.reconcile import recover

    import_id = (job.meta or {}).get("import_id")
    if import_id is not None:
        # A horse's death is certain; an abandoned job (its worker stopped beating) is checked against
        # the import's own heartbeat first.
        recover(import_id, job.id, f"its worker process died ({exc_type.__name__})",
                certain=not issubclass(exc_type, AbandonedJobError))  # fmt: skip


def profile_columns(import_id: int) -> None:
    """Profile the columns of import *import_id*'s file for its matching page."""
    column_profiles.run_profile_job(import_id)


def record_profile_failure(job, connection, exc_type, exc_value, traceback) -> None:
    """Say on the matching page that profiling failed when its job died (or raised)."""
    import_id = (job.meta or {}).get("profile_of_import")
    if import_id is not None:
        column_profiles.record_failure(import_id, exc_type.__name__)
