"""The wrong-file check with plain data: when nearly every one of the first 1,000 rows is rejected, stop."""

from bookapp.importer.errors import RowProblem
from bookapp.importer.wrong_file import WRONG_FILE_SAMPLE, WrongFileCheck

BOOK_TYPE = "Book type must be one of Hardcover, Paperback, Comic; 'Novel' is not one of them"
PRICE = "Price is not a price"


def rejected(first: int, count: int, message: str = BOOK_TYPE) -> list[RowProblem]:
    """One problem for each of *count* rows numbered from *first*."""
    return [RowProblem(n, "Column", "value", message) for n in range(first, first + count)]


def test_a_sample_nearly_all_rejected_stops_naming_the_commonest_problem():
    check = WrongFileCheck()
    said = []
    for chunk in range(10):  # 100 rows a chunk, 95 of them rejected: 90 for their book type, 5 for their price
        first = 2 + chunk * 100
        said.append(check.see(100, rejected(first, 90) + rejected(first + 90, 5, PRICE)))
    assert said[:9] == [None] * 9, "nothing is judged before 1,000 rows are seen"
    assert said[9] == (
        "950 of the first 1,000 rows were rejected, so the import stopped: this file does not look like a book "
        "list in the expected layout. The most common problem: Book type must be one of Hardcover, Paperback, "
        "Comic (900 times). Check that the right file was chosen and that its columns hold what their headers say."
    )


def test_ninety_percent_rejected_stops_and_fewer_does_not():
    assert WrongFileCheck().see(1_000, rejected(2, 900)) is not None
    assert WrongFileCheck().see(1_000, rejected(2, 899)) is None


def test_a_row_with_several_problems_is_one_rejected_row_and_each_problem_counts():
    problems = rejected(2, 900) + rejected(2, 900, PRICE) + rejected(2, 5, PRICE)
    message = WrongFileCheck().see(1_000, problems)
    assert message.startswith("900 of the first 1,000 rows were rejected")
    assert "The most common problem: Price is not a price (905 times)." in message


def test_later_rows_are_not_judged_once_the_sample_is_mostly_good():
    check = WrongFileCheck()
    assert check.see(1_000, rejected(2, 100)) is None
    assert check.see(1_000, rejected(1_002, 1_000)) is None, "a bad stretch after the sample is only bad rows"
    assert check.sampled == WRONG_FILE_SAMPLE


def test_a_file_shorter_than_the_sample_is_never_called_the_wrong_file():
    check = WrongFileCheck()
    assert check.see(500, rejected(2, 500)) is None
    assert check.see(0, []) is None


def test_a_chunk_that_passes_the_sample_is_counted_whole():
    check = WrongFileCheck()
    assert check.see(600, rejected(2, 600)) is None
    message = check.see(2_000, rejected(602, 2_000))
    assert message.startswith("2,600 of the first 2,600 rows were rejected")
    assert "(2,600 times)" in message


def test_a_text_file_of_notes_is_refused_at_its_upload_not_sent_to_match_columns(app, staff_client, tmp_path):
    """A staff member's notes saved as .txt were taken as a CSV of one column and sent to Match columns, where
    every field wanted a column the file does not have and the import waited for ever. A file of one column
    cannot hold books (a title and an ISBN each need one): it is refused at its upload, through the API and
    the command line alike, and nothing is kept."""
    import io

    from sqlalchemy import func, select

    from bookapp.extensions import db
    from bookapp.models import Import
    from tests.conftest import flask_cli
    from tests.test_access import bearer
    from tests.test_imports import upload
    from tests.test_matching import text_of

    notes = b"Order more Dune for the window\nCall the distributor on Monday\nInventory on the 3rd\n"
    response = upload(staff_client, notes, "notes.txt")
    assert response.status_code == 400, response.location
    said = "“notes.txt” cannot be imported. The file has one column (“Order more Dune for the window”), so it"
    assert said in text_of(response), text_of(response)

    headers = bearer(app, "api@example.com")
    api = app.test_client().post("/api/v1/imports", data={"file": (io.BytesIO(notes), "notes.txt")}, headers=headers,
                                 content_type="multipart/form-data")  # fmt: skip
    assert api.status_code == 422 and "The file has one column" in api.get_json()["error"]["message"]

    path = tmp_path / "isbns.csv"
    path.write_bytes(b"ISBN\n9780441172719\n9780441013593\n")
    env = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": app.config["REDIS_URL"],
           "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"], "BOOKAPP_IMPORT_QUEUE": app.config["IMPORT_QUEUE"]}  # fmt: skip
    cli = flask_cli(["import-books", str(path)], env)
    assert cli.returncode != 0 and "The file has one column (“ISBN”)" in cli.stderr, cli.stderr
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Import)) == 0
