"""How fast the realistic bench data is made, and what it holds: python -m bench.realism [--rows 100000] [--check]

Prints the generator's speed (rows alone, and written as CSV) next to the tidy best case's, then a
summary of the values to judge them by: shares of each ISBN form, blank page counts and descriptions,
distinct titles and authors, the most frequent author's share, and quantiles of prices, years, pages,
quantities and row sizes. --check also reads the written file with bookapp's importer and counts the
rows it would reject and the ISBNs that are not unique (both should be 0).
"""

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

from . import data


def quantiles(values: list[float], points=(0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)) -> str:
    ordered = sorted(values)
    return ", ".join(f"p{round(p * 100)} {ordered[min(int(p * len(ordered)), len(ordered) - 1)]:,g}" for p in points)


def isbn_form(isbn: str) -> str:
    digits = isbn.replace("-", "")
    kind = "ISBN-13 979" if digits.startswith("979") else "ISBN-13 978" if len(digits) == 13 else "ISBN-10"
    return kind + (", hyphenated" if "-" in isbn else ", plain")


def summary(rows: list[list[str]]) -> str:
    count = len(rows)
    titles, authors, types, isbns, years, prices, pages, quantities, descriptions = zip(*rows, strict=True)
    share = lambda n: f"{n / count:.1%}"  # noqa: E731
    authors_seen = collections.Counter(authors)
    top_author, top_count = authors_seen.most_common(1)[0]
    endings = collections.Counter(p[-3:] for p in prices)
    lines = [
        f"{count:,} rows",
        "ISBNs: " + ", ".join(f"{k} {share(v)}" for k, v in sorted(collections.Counter(map(isbn_form, isbns)).items())),
        "book types: " + ", ".join(f"{k} {share(v)}" for k, v in collections.Counter(types).most_common()),
        f"titles: {len(set(titles)):,} distinct ({len(set(titles)) / count:.0%}); words per title: "
        + ", ".join(f"{k} {share(v)}" for k, v in sorted(collections.Counter(len(t.split()) for t in titles).items())),
        f"authors: {len(authors_seen):,} distinct ({len(authors_seen) / count:.0%}); the most frequent "
        f"({top_author}) in {share(top_count)} of rows; authors in one row only: "
        f"{sum(1 for v in authors_seen.values() if v == 1):,}",
        f"prices: {quantiles([float(p) for p in prices])}; endings: "
        + ", ".join(f"{k} {share(v)}" for k, v in endings.most_common(6)),
        f"years: {quantiles([int(y) for y in years])}; before 1900: {share(sum(1 for y in years if int(y) < 1900))}",
        f"pages: blank {share(pages.count(''))}; {quantiles([int(p) for p in pages if p])}",
        f"quantities: zero {share(quantities.count('0'))}; {quantiles([int(q) for q in quantities])}",
        f"descriptions: blank {share(descriptions.count(''))}; 2 KB or longer "
        f"{share(sum(1 for d in descriptions if len(d) >= 2000))}, with a line break "
        f"{share(sum(1 for d in descriptions if chr(10) in d))}, with a double quote "
        f"{share(sum(1 for d in descriptions if chr(34) in d))}",
        f"row sizes (bytes, as CSV cells): {quantiles([sum(len(c.encode()) for c in r) + 8 for r in rows])}",
        f"non-ASCII in title or author: {share(sum(1 for t, a in zip(titles, authors, strict=True) if not (t + a).isascii()))}",
    ]
    return "\n".join(lines)


def check(path: Path) -> tuple[int, int, int]:
    """Read *path* as an import does and validate it: return (rows, rows rejected, ISBNs seen twice)."""
    from bookapp.importer import RowValidator, map_headers, open_table

    rows = rejected = 0
    seen: set[str] = set()
    repeated = 0
    with open_table(path) as table:
        validator = RowValidator(map_headers(table.headers), text_cells=path.suffix == ".csv")
        chunk = []
        for numbered in table.rows:
            chunk.append(numbered)
            if len(chunk) == 5000:
                valid, problems = validator.validate_chunk(chunk)
                rows, rejected = rows + len(chunk), rejected + len({p.row_number for p in problems})
                for isbn in valid.column("isbn"):
                    repeated += isbn in seen
                    seen.add(isbn)
                chunk = []
        if chunk:
            valid, problems = validator.validate_chunk(chunk)
            rows, rejected = rows + len(chunk), rejected + len({p.row_number for p in problems})
            for isbn in valid.column("isbn"):
                repeated += isbn in seen
                seen.add(isbn)
    return rows, rejected, repeated


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=data.SEED)
    parser.add_argument("--check", action="store_true", help="validate the file with bookapp's importer")
    options = parser.parse_args(argv)
    started = time.perf_counter()
    catalogue = data.Catalogue(options.seed)
    setup = time.perf_counter() - started
    started = time.perf_counter()
    rows = list(catalogue.rows(options.rows))
    made = time.perf_counter() - started
    started = time.perf_counter()
    for n in range(1, options.rows + 1):
        data.row(n)
    tidy = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "books.csv"
        started = time.perf_counter()
        data.write_realistic_csv(path, options.rows, seed=options.seed)
        written = time.perf_counter() - started
        size = path.stat().st_size
        print(f"generator: tables {setup:.2f} s; {options.rows / made:,.0f} rows/s made, {options.rows / written:,.0f} "
              f"rows/s made and written as CSV ({size / options.rows:,.0f} bytes a row, {size / 2**20:,.1f} MB); "
              f"the tidy best case's rows: {options.rows / tidy:,.0f} rows/s made")  # fmt: skip
        print(summary(rows))
        print(f"middle row and the searches made from it: {catalogue.probe(options.rows)}")
        if options.check:
            total, rejected, repeated = check(path)
            print(f"bookapp's importer: {total:,} rows read, {rejected:,} rejected, {repeated:,} ISBNs repeated")
            return 0 if total == options.rows and not rejected and not repeated else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
