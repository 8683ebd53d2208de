"""What reading the files people have costs: the header check in the upload's request, and an import
through a mapping next to the same rows imported from the template's layout, in one run.

    python -m bench.mapping [--rows 1000000] [--runs 3] [--database sqlite|postgresql]

Both files are the bench's realistic data (bench/data.py). The mapped one holds the same rows as the
template-shaped one, laid out as an export would be: other
header names, an ISBN13 column that is blank in a tenth of the rows (the chain falls back to ISBN),
book types in the exporter's words (a value map), and no quantity column (a default). Each import is
the real job code in its own process, alternated, the median of --runs reported.
"""

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

from . import data
from .running import DATA, case, postgres_url, realistic_csv, realistic_xlsx

#: The exporter's words for the five types, mapped back by the value map.
WORDS = {"Sci-tech": "Science & Tech", "Magazine": "Periodical", "Comic": "Graphic novel", "Classic": "Classics",
         "Horror": "horror "}  # fmt: skip
MAPPED_HEADER = ["Name", "Writer", "Genre", "ISBN13", "ISBN", "First published", "Retail price", "Pages", "Blurb"]
MAPPING = {
    "columns": {"title": "Name", "author": "Writer", "book_type": "Genre", "isbn": ["ISBN13", "ISBN"],
                "year_published": "First published", "price": "Retail price", "no_of_pages": "Pages",
                "description": "Blurb"},
    "defaults": {"quantity": "1"},
    "values": {"book_type": {word: kind for kind, word in WORDS.items()}},
}  # fmt: skip


def write_pair(rows: int) -> tuple[Path, Path]:
    """Write the template-shaped file and the same rows in an export's layout."""
    plain = realistic_csv(rows)
    mapped = DATA / f"realistic-v{data.VERSION}-{rows}-mapped.csv"
    if not mapped.exists():
        with (
            open(plain, newline="", encoding="utf-8") as source,
            open(mapped, "w", newline="", encoding="utf-8") as out,
        ):
            reader, writer = csv.reader(source), csv.writer(out)
            next(reader)
            writer.writerow(MAPPED_HEADER)
            for n, (title, author, kind, isbn, year, price, pages, _quantity, description) in enumerate(reader):
                writer.writerow([title, author, WORDS[kind], "" if n % 10 == 0 else isbn, isbn, year, price, pages,
                                 description])  # fmt: skip
    return plain, mapped


def header_check(paths: list[Path]) -> list[tuple[str, float]]:
    """Time reading the header row as the upload's request does, for each file (median of 5)."""
    from bookapp.importer.peek import read_header

    timings = []
    for path in paths:
        spans = []
        for _ in range(5):
            started = time.perf_counter()
            read_header(path)
            spans.append(time.perf_counter() - started)
        timings.append((path.name, sorted(spans)[2] * 1000))
    return timings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args(argv)
    plain, mapped = write_pair(args.rows)
    xlsx = realistic_xlsx(100_000)
    for name, ms in header_check([plain, mapped, xlsx]):
        print(f"header check, {name} ({Path(DATA / name).stat().st_size / 2**20:,.0f} MB): {ms:.1f} ms")
    seconds: dict[str, list[float]] = {"template layout": [], "export layout, mapped": []}
    cpu: dict[str, list[float]] = {label: [] for label in seconds}
    with tempfile.TemporaryDirectory() as work:
        url = postgres_url() if args.database == "postgresql" else f"sqlite:///{work}/bench.db"
        if url is None:
            raise SystemExit("Set TEST_DATABASE_URL to run on PostgreSQL.")
        for _ in range(args.runs):
            for label, path, mapping in (("template layout", plain, ""), ("export layout, mapped", mapped,
                                                                            json.dumps(MAPPING))):  # fmt: skip
                outcome = case("bookapp", str(path), url, work, "fresh", "off", "ahead", mapping)
                assert outcome["created"] == args.rows, outcome
                seconds[label].append(outcome["seconds"])
                cpu[label].append(outcome["cpu_seconds"])
    medians = {label: sorted(values)[len(values) // 2] for label, values in seconds.items()}
    for label, median in medians.items():
        runs = ", ".join(f"{s:.2f}" for s in seconds[label])
        print(
            f"{args.database}, {args.rows:,} rows, {label}: {median:.2f} s ({args.rows / median:,.0f} rows/s; runs {runs})"
        )
    ratio = medians["export layout, mapped"] / medians["template layout"]
    print(f"mapped / template, wall clock: {ratio:.3f} (target ≤ 1.05: {'met' if ratio <= 1.05 else 'NOT met'})")
    cpu_medians = {label: sorted(values)[len(values) // 2] for label, values in cpu.items()}
    cpu_ratio = cpu_medians["export layout, mapped"] / cpu_medians["template layout"]
    runs = "; ".join(f"{label} " + ", ".join(f"{s:.2f}" for s in values) for label, values in cpu.items())
    print(f"mapped / template, CPU seconds of the import's processes: {cpu_ratio:.3f} ({runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
