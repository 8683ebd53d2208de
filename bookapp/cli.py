"""Flask commands: run a worker, manage users and tokens, set up the database, import a file."""

import getpass
import json
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from .extensions import db
from .models import Import, ImportMode, Role, User


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--simple", is_flag=True, help="Run jobs in this process instead of a forked child.")
@click.option(
    "--role",
    type=click.Choice(["all", "imports", "indexes"]),
    default="all",
    show_default=True,
    help="imports: only imports (its worker is free as soon as the books are saved); indexes: only the search "
    "and sort indexes' catch-ups after imports; all: imports first, catch-ups when no import waits.",
)
@with_appcontext
def worker_command(burst: bool, simple: bool, role: str) -> None:
    """Run an RQ worker for the import queue (and the indexes' catch-ups: see --role)."""
    from .queue import make_worker
    from .services.reconcile import between_imports, between_jobs
    from .services.setup import schema_behind

    problem = schema_behind()
    if problem:  # every job would fail; say what to do instead
        raise click.ClickException(f"The worker cannot start: {problem}.")
    app = current_app._get_current_object()
    maintenance = between_imports if role == "imports" else between_jobs
    worker = make_worker(app, simple=simple, maintenance=maintenance, role=role)
    # Without this the worker's own logging is silent when started from a flask command.
    worker.work(burst=burst, logging_level="INFO", with_scheduler=False)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Apply the migrations (`db upgrade`), set the search indexes as BOOKAPP_SEARCH_INDEX says, and
    create the admin from BOOKAPP_ADMIN_* if no user exists."""
    from .services.setup import init_database

    init_database()
    click.echo("Database ready.")


@click.command("create-admin")
@click.argument("email")
@click.option("--password", help="The password (asked for when omitted).")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.STAFF.value)
@with_appcontext
def create_admin_command(email: str, password: str | None, role: str) -> None:
    """Create a user (staff by default), or reset the password of an existing one."""
    from .services.setup import create_user

    if not password:
        password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        raise click.UsageError("The password must have at least 8 characters.")
    user = create_user(email, password, Role(role))
    click.echo(f"User {user.email} ({user.role}) is ready.")


@click.command("create-token")
@click.argument("email")
@click.option("--expires-days", type=click.IntRange(min=1), help="Refuse the token after this many days.")
@with_appcontext
def create_token_command(email: str, expires_days: int | None) -> None:
    """Print a new API token for the user with EMAIL (on the last line)."""
    from .api import issue_token

    user = _user_or_fail(email)
    lasting = f"expires in {expires_days} day(s)" if expires_days else "works until revoked"
    click.echo(f"New API token for {user.email} ({lasting}; shown once; send it as 'Authorization: Bearer <token>'):")
    click.echo(issue_token(user, expires_days))


@click.command("list-tokens")
@click.argument("email")
@with_appcontext
def list_tokens_command(email: str) -> None:
    """List the API tokens of the user with EMAIL: when each was made, expires, or was revoked."""
    from .models import ApiToken, utcnow

    user = _user_or_fail(email)
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all()
    if not tokens:
        click.echo(f"{user.email} has no API tokens.")
    moment = utcnow()
    for token in tokens:
        if token.revoked_at is not None:
            state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M} UTC"
        elif token.expires_at is not None and token.expires_at <= moment:
            state = f"expired {token.expires_at:%Y-%m-%d %H:%M} UTC"
        elif token.expires_at is not None:
            state = f"active, expires {token.expires_at:%Y-%m-%d %H:%M} UTC"
        else:
            state = "active, never expires"
        click.echo(f"token #{token.id}: created {token.created_at:%Y-%m-%d %H:%M} UTC, {state}")


@click.command("import-books")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mode", type=click.Choice([m.value for m in ImportMode]), default=ImportMode.CREATE_UPDATE.value)
@click.option("--dry-run", is_flag=True, help="Validate and count without saving.")
@click.option("--all-or-nothing", is_flag=True, help="Save nothing if any row is rejected.")
@click.option("--allow-repeat", is_flag=True, help="Import even if the same file was imported before.")
@click.option("--wait", is_flag=True, help="Wait for the import to end and print its report.")
@click.option("--profile", help="Read the file with this saved import profile.")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="'HEADER=FIELD'",
    help="Read a column as a field; give a field several times for a fallback chain (ISBN13, else ISBN).",
)
@click.option("--default", "defaults", multiple=True, metavar="FIELD=VALUE", help="One value for every row of a field.")
@click.option(
    "--value",
    "values",
    multiple=True,
    metavar="'FIELD:FILE VALUE=STORED'",
    help="Map a file value of a fixed-list field (book_type); an empty STORED rejects those rows.",
)
@click.option(
    "--group-by",
    metavar="HEADER",
    help="The column naming each row's product (a shop export's Handle): a row with the same value as the row "
    "above takes that product's title, author, type, year, pages and description where its own are blank.",
)
@click.option("--save-profile", help="Save the mapping used as an import profile of this name.")
@with_appcontext
def import_books_command(
    path: Path, mode: str, dry_run: bool, all_or_nothing: bool, allow_repeat: bool, wait: bool,
    profile: str | None, maps: tuple[str, ...], defaults: tuple[str, ...], values: tuple[str, ...],
    group_by: str | None, save_profile: str | None,
) -> None:  # fmt: skip
    """Queue an import of PATH; with --wait, exit non-zero if rows were rejected or it failed.

    A file whose header does not name every required field is refused, saying which are missing and
    what the file's columns are: match them with --map, --default and --value, or --profile."""
    from .importer import FileProblem, MappingError
    from .services.import_view import import_json
    from .services.imports import ImportOptions, create_import
    from .services.repeats import RepeatedFile

    try:
        mapping = _mapping_from_options(maps, defaults, values, group_by)
    except MappingError as exc:
        raise click.BadParameter(str(exc)) from None
    options = ImportOptions(
        ImportMode(mode), dry_run, all_or_nothing, allow_repeat,
        mapping=mapping, profile=profile, save_as=save_profile, refuse_unmatched=True,
    )  # fmt: skip
    with open(path, "rb") as fh:
        try:
            imp = create_import(FileStorage(fh, filename=path.name), None, options)
        except FileProblem as problem:
            raise click.ClickException(problem.message) from None
        except RepeatedFile as repeated:
            raise click.ClickException(f"{repeated} Use --allow-repeat to import it anyway.") from None
    click.echo(f"Import #{imp.id} queued" + (" (a dry run: it checks the file and saves nothing)." if dry_run else "."))
    if not wait:
        return
    while not imp.is_terminal:
        time.sleep(0.5)
        db.session.expire(imp)
        db.session.get(Import, imp.id)
    click.echo(json.dumps(import_json(imp, with_problems=True), indent=2))
    _echo_summary(imp)
    if imp.status != "succeeded" or imp.rejected:
        sys.exit(1)


def _mapping_from_options(maps, defaults, values, group_by=None):
    """Build a Mapping from --map 'HEADER=FIELD', --default FIELD=VALUE, --value 'FIELD:FROM=TO' and
    --group-by HEADER."""
    from .importer import Mapping, MappingError

    if not (maps or defaults or values or group_by):
        return None
    columns: dict[str, list[str]] = {}
    for item in maps:
        header, equals, field = item.rpartition("=")
        if not equals or not header.strip():
            raise MappingError(f"--map {item!r}: write it as 'HEADER=FIELD', e.g. 'Owned Copies=quantity'.")
        columns.setdefault(field.strip(), []).append(header.strip())
    default_values = {}
    for item in defaults:
        field, equals, value = item.partition("=")
        if not equals:
            raise MappingError(f"--default {item!r}: write it as FIELD=VALUE, e.g. book_type=Classic.")
        default_values[field.strip()] = value
    value_maps: dict[str, dict[str, str | None]] = {}
    for item in values:
        field, colon, rest = item.partition(":")
        source, equals, target = rest.rpartition("=")
        if not colon or not equals:
            raise MappingError(
                f"--value {item!r}: write it as 'FIELD:FILE VALUE=STORED', e.g. 'book_type:Manga=Comic'."
            )
        value_maps.setdefault(field.strip(), {})[source] = target.strip() or None
    return Mapping.from_json(
        {"columns": columns, "defaults": default_values, "values": value_maps, "group_by": group_by}, as_typed=True
    )


def _echo_summary(imp: Import, err: bool = False) -> None:
    """Print how the import ended in words, then one line per kind of problem."""
    from .services.import_words import summary_line
    from .services.problems import problem_lines

    click.echo(summary_line(imp), err=err)
    if imp.rejected:
        for line in problem_lines(imp.id):
            click.echo(f"  {line}", err=err)


@click.command("reconcile")
@click.option("--loop", is_flag=True, help="Keep reconciling every BOOKAPP_RECONCILE_SECONDS.")
@with_appcontext
def reconcile_command(loop: bool) -> None:
    """Queue again (or fail) imports that a dead worker or a restarted Redis lost."""
    from .services.reconcile import reconcile

    while True:
        done = reconcile()
        click.echo(f"Requeued: {done['requeued'] or 'none'}; failed: {done['failed'] or 'none'}")
        if not loop:
            return
        time.sleep(current_app.config["RECONCILE_SECONDS"])


@click.command("revoke-tokens")
@click.argument("email")
@with_appcontext
def revoke_tokens_command(email: str) -> None:
    """Revoke every API token of the user with EMAIL."""
    from .models import ApiToken, utcnow

    user = _user_or_fail(email)
    count = 0
    for token in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = utcnow()
        count += 1
    db.session.commit()
    click.echo(f"Revoked {count} token(s) of {user.email}.")


@click.command("revoke-sessions")
@click.argument("email")
@with_appcontext
def revoke_sessions_command(email: str) -> None:
    """End every signed-in session of the user with EMAIL (on every browser; they sign in again)."""
    from .auth.sessions import end_every_session

    user = _user_or_fail(email)
    end_every_session(user)
    click.echo(f"Ended every session of {user.email}; signing in again starts a new one.")


def _user_or_fail(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.UsageError(f"There is no user {email}. Create one with: flask --app wsgi create-admin {email}")
    return user


def _import_or_fail(import_id: int) -> Import:
    imp = db.session.get(Import, import_id)
    if imp is None:
        raise click.UsageError(f"There is no import {import_id}.")
    return imp


@click.command("undo-import")
@click.argument("import_id", type=int)
@with_appcontext
def undo_import_command(import_id: int) -> None:
    """Undo a finished import: delete the books it created, restore the fields it changed."""
    from .services.import_jobs import ImportStateError
    from .services.undo import undo_import

    try:
        report = undo_import(_import_or_fail(import_id), None)
    except ImportStateError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(report, indent=2))


def _write_output(chunks, output: Path | None, binary: bool = False) -> None:
    if output is None:
        stream = click.get_binary_stream("stdout") if binary else click.get_text_stream("stdout")
        for chunk in chunks:
            stream.write(chunk)
        stream.flush()
        return
    if binary:
        with open(output, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
    else:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            for chunk in chunks:
                fh.write(chunk)


@click.command("import-report")
@click.argument("import_id", type=int)
@click.option("--rejected", is_flag=True, help="Only the rejected rows, ready to fix and upload again.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@with_appcontext
def import_report_command(import_id: int, rejected: bool, fmt: str, output: Path | None) -> None:
    """Print an import's row-by-row report (or its rejected rows) as CSV or XLSX."""
    from .importer import FileProblem
    from .services.import_jobs import upload_path
    from .services.reports import RECONCILIATION_HEADER, csv_lines, reconciliation_rows, rejected_table
    from .services.spreadsheet import xlsx_chunks

    imp = _import_or_fail(import_id)
    if imp.is_terminal:  # on stderr: stdout carries the file
        _echo_summary(imp, err=True)
    if rejected:
        header, rows = rejected_table(imp)
    else:
        header = RECONCILIATION_HEADER
        try:
            rows = reconciliation_rows(imp, upload_path(imp))
        except FileProblem as problem:
            raise click.ClickException(problem.message) from None
    if fmt == "csv":
        _write_output(csv_lines(header, rows), output, binary=True)
    else:
        _write_output(xlsx_chunks(header, rows), output, binary=True)


@click.command("export-books")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.option("--q", default="", help="Search text (title, author or ISBN).")
@click.option("--book-type", default="", help="Only books of this type.")
@with_appcontext
def export_books_command(fmt: str, output: Path | None, q: str, book_type: str) -> None:
    """Export the books (streamed) as CSV or XLSX, in the layout the importer reads back."""
    from .books import EXPORT_HEADER, EXPORT_NUMBER_FORMATS, EXPORT_TEXT_COLUMNS, export_rows
    from .services.books import BookQuery
    from .services.reports import csv_lines
    from .services.spreadsheet import xlsx_chunks

    query = BookQuery(q=q, book_type=book_type, sort="id", direction="asc")
    if fmt == "csv":
        _write_output(csv_lines(EXPORT_HEADER, export_rows(query)), output, binary=True)
    else:
        workbook = xlsx_chunks(EXPORT_HEADER, export_rows(query), text_columns=EXPORT_TEXT_COLUMNS,
                               number_formats=EXPORT_NUMBER_FORMATS, sheet_title="Books")  # fmt: skip
        _write_output(workbook, output, binary=True)


commands = [
    revoke_tokens_command,
    revoke_sessions_command,
    list_tokens_command,
    undo_import_command,
    import_report_command,
    export_books_command,
    reconcile_command,
    worker_command,
    init_db_command,
    create_admin_command,
    create_token_command,
    import_books_command,
]
