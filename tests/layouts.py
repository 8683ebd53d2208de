"""Files laid out as other programs export them, made from their public column lists.

Each maker returns (file name, bytes) for books numbered from *first*: the same header every time,
different rows, so a second file of a layout is "the next export" of the same program.
"""

import csv
import io

from stdnum import isbn as stdnum_isbn

from tests.helpers import isbn13

GOODREADS_HEADER = [
    "Book Id",
    "Title",
    "Author",
    "Author l-f",
    "Additional Authors",
    "ISBN",
    "ISBN13",
    "My Rating",
    "Average Rating",
    "Publisher",
    "Binding",
    "Number of Pages",
    "Year Published",
    "Original Publication Year",
    "Date Read",
    "Date Added",
    "Bookshelves",
    "Bookshelves with positions",
    "Exclusive Shelf",
    "My Review",
    "Spoiler",
    "Private Notes",
    "Read Count",
    "Owned Copies",
]

LIBRARYTHING_HEADER = [
    "Book Id",
    "Title",
    "Sort Character",
    "Primary Author",
    "Primary Author Role",
    "Secondary Author",
    "Secondary Author Roles",
    "Publication",
    "Date",
    "Review",
    "Rating",
    "Comment",
    "Private Comment",
    "Summary",
    "Media",
    "Physical Description",
    "Weight",
    "Height",
    "Thickness",
    "Length",
    "Dimensions",
    "Page Count",
    "LCCN",
    "Acquired",
    "Date Started",
    "Date Read",
    "Barcode",
    "BCID",
    "Tags",
    "Collections",
    "Languages",
    "Original Languages",
    "LC Classification",
    "ISBN",
    "ISBNs",
    "Subjects",
    "Dewey Decimal",
    "Dewey Wording",
    "Other Call Number",
    "Copies",
    "Source",
    "Entry Date",
    "From Where",
    "OCLC",
    "Work id",
    "Lending Patron",
    "Lending Status",
    "Lending Start",
    "Lending End",
]

#: A book data set as a numeric tool writes it (the columns of a well-known public one).
DATASET_HEADER = [
    "book_id",
    "goodreads_book_id",
    "best_book_id",
    "work_id",
    "books_count",
    "isbn",
    "isbn13",
    "authors",
    "original_publication_year",
    "original_title",
    "title",
    "language_code",
    "average_rating",
    "ratings_count",
    "work_ratings_count",
    "work_text_reviews_count",
    "ratings_1",
    "ratings_2",
    "ratings_3",
    "ratings_4",
    "ratings_5",
    "image_url",
    "small_image_url",
]

SHOPIFY_HEADER = [
    "Handle",
    "Title",
    "Body (HTML)",
    "Vendor",
    "Product Category",
    "Type",
    "Tags",
    "Published",
    "Option1 Name",
    "Option1 Value",
    "Variant SKU",
    "Variant Grams",
    "Variant Inventory Tracker",
    "Variant Inventory Qty",
    "Variant Inventory Policy",
    "Variant Fulfillment Service",
    "Variant Price",
    "Variant Compare At Price",
    "Variant Requires Shipping",
    "Variant Taxable",
    "Variant Barcode",
    "Image Src",
    "Image Position",
    "Image Alt Text",
    "Gift Card",
    "SEO Title",
    "SEO Description",
    "Variant Image",
    "Variant Weight Unit",
    "Variant Tax Code",
    "Cost per item",
    "Status",
]


def isbn10_check_digit(body: str) -> str:
    """Return the check digit of an ISBN-10's first nine digits."""
    check = (11 - sum((10 - i) * int(d) for i, d in enumerate(body)) % 11) % 11
    return "X" if check == 10 else str(check)


def isbn10(n: int) -> str:
    """Return an ISBN-10 for book *n* that starts with one 0 and ends in a digit (so a numeric column
    drops exactly that zero), as English-language ISBNs do."""
    found = 0
    for body in (f"0439{k:05d}" for k in range(100_000)):
        check = isbn10_check_digit(body)
        if check != "X":
            if found == n:
                return body + check
            found += 1
    raise ValueError(n)


def isbn13_of(n: int) -> str:
    """Return the ISBN-13 that book *n* is stored under (its ISBN-10, converted)."""
    return stdnum_isbn.to_isbn13(isbn10(n))


def _csv(header: list[str], rows: list[list[object]], delimiter: str = ",") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def goodreads(first: int, count: int = 6) -> tuple[str, bytes]:
    """A Goodreads library export: ISBNs as ="…" text formulas, some empty (="") as e-books have,
    reviews with commas, quotes and line breaks. Every fifth book has no ISBN at all."""
    rows = []
    for n in range(first, first + count):
        no_isbn = n % 5 == 0
        row = dict.fromkeys(GOODREADS_HEADER, "")
        row.update({
            "Book Id": str(1000 + n), "Title": f"Dune, part {n}", "Author": "Frank Herbert",
            "Author l-f": "Herbert, Frank", "ISBN": '=""' if no_isbn else f'="{isbn10(n)}"',
            "ISBN13": '=""' if no_isbn or n % 3 == 0 else f'="{isbn13_of(n)}"', "My Rating": "4",
            "Average Rating": "4.27", "Publisher": "Ace", "Binding": "Paperback", "Number of Pages": str(600 + n),
            "Year Published": "1990", "Original Publication Year": "1965", "Date Added": "2024/01/02",
            "Bookshelves": "classics, sci-fi", "Exclusive Shelf": "read",
            "My Review": f'Loved it, "really".<br/>Book {n}\nsecond line', "Read Count": "1",
            "Owned Copies": str(n % 3),
        })  # fmt: skip
        rows.append([row[h] for h in GOODREADS_HEADER])
    return "goodreads_library_export.csv", _csv(GOODREADS_HEADER, rows)


GOODREADS_MAPPING = {
    "columns": {"isbn": ["ISBN13", "ISBN"], "quantity": "Owned Copies", "description": "My Review"},
    "defaults": {"book_type": "Classic", "price": "0.00"},
}


def librarything(first: int, count: int = 5) -> tuple[str, bytes]:
    """A LibraryThing export: tab-separated, ISBNs in brackets, years in Date, copies in Copies."""
    rows = []
    for n in range(first, first + count):
        row = dict.fromkeys(LIBRARYTHING_HEADER, "")
        row.update({
            "Book Id": str(2000 + n), "Title": f"The Left Hand of Darkness {n}", "Primary Author": "Le Guin, Ursula K.",
            "Primary Author Role": "Author", "Publication": "New York, Ace Books (1969)", "Date": str(1969 + n % 30),
            "Summary": f"Summary {n}", "Media": "Book", "Page Count": str(300 + n), "Tags": "sf, classic",
            "Collections": "Your library", "Languages": "English", "ISBN": f"[{isbn10(n)}]",
            "ISBNs": f"{isbn13_of(n)}, {isbn10(n)}", "Copies": "1", "Entry Date": "2024-05-01",
        })  # fmt: skip
        rows.append([row[h] for h in LIBRARYTHING_HEADER])
    return "LibraryThing_export.tsv", _csv(LIBRARYTHING_HEADER, rows, delimiter="\t")


LIBRARYTHING_MAPPING = {
    "columns": {"author": "Primary Author", "year_published": "Date", "no_of_pages": "Page Count",
                "quantity": "Copies", "description": "Summary"},
    "defaults": {"book_type": "Classic", "price": "0"},
}  # fmt: skip


def dataset(first: int, count: int = 6) -> tuple[str, bytes]:
    """A data set a numeric tool wrote: isbn13 in scientific notation (its last digits gone), isbn
    as a number that lost its leading zero, years as 2008.0 (one negative), long author lists."""
    rows = []
    for n in range(first, first + count):
        code = isbn13_of(n)
        rows.append([
            n, 10_000 + n, 10_000 + n, 20_000 + n, 10, str(int(isbn10(n))),  # 0441… written as 441…
            f"{float(code):.11e}", ", ".join(["Suzanne Collins"] * 3), "-720.0" if n == first + 1 else "2008.0",
            f"Original {n}", f"The Hunger Games {n}", "eng", 4.34, 4780653, 4942365, 155254, 66715, 127936, 560092,
            1481305, 2706317, "https://images.example/m.jpg", "https://images.example/s.jpg",
        ])  # fmt: skip
    return "books.csv", _csv(DATASET_HEADER, rows)


def text_dump(first: int, count: int = 5) -> tuple[str, bytes]:
    """A data set a numeric tool wrote with every cell made text (str() of each, as pandas' astype(str) did
    before pandas 3, then to_csv): a blank is nan, or None in a column of objects; ISBNs held as numbers are written as numpy's savetxt writes
    them, in scientific notation with every digit (9.780441013593000000e+12); years and pages as floats.
    Row 4 (the third book) has no title."""
    import pandas as pd

    rows = [
        {
            "title": None if n == first + 2 else f"Dune {n}",
            "author": "Frank Herbert",
            "book_type": "Classic",
            "isbn": f"{float(isbn13_of(n)):.18e}",
            "year_published": 1965.0,
            "price": 9.99,
            "no_of_pages": float("nan") if n % 2 else 412.0,
            "quantity": 3,
            "description": (None, float("nan"))[n % 4 // 2] if n % 2 else "Arrakis",
        }
        for n in range(first, first + count)
    ]
    return "dataset.csv", pd.DataFrame(rows, dtype=object).map(str).to_csv(index=False).encode()


DATASET_MAPPING = {
    "columns": {"isbn": ["isbn13", "isbn"], "author": "authors", "year_published": "original_publication_year"},
    "defaults": {"book_type": "Classic", "price": "9.99", "quantity": "1"},
}


def shopify(first: int, count: int = 5) -> tuple[str, bytes]:
    """A Shopify product export: vendor as author, barcode as ISBN (SKU where it is blank), a price and
    a stock per variant, the product type as its kind."""
    types = ["Fiction", "Manga", "Science", "Poetry", "fiction "]
    rows = []
    for n in range(first, first + count):
        row = dict.fromkeys(SHOPIFY_HEADER, "")
        row.update({
            "Handle": f"book-{n}", "Title": f"Shop book {n}", "Body (HTML)": f"<p>About book {n}</p>",
            "Vendor": "Penguin", "Product Category": "Media > Books > Print Books", "Type": types[n % 5],
            "Tags": "books", "Published": "TRUE", "Option1 Name": "Title", "Option1 Value": "Default Title",
            "Variant SKU": isbn13(n), "Variant Grams": "300", "Variant Inventory Tracker": "shopify",
            "Variant Inventory Qty": str(n % 7), "Variant Inventory Policy": "deny",
            "Variant Fulfillment Service": "manual", "Variant Price": f"{10 + n}.99",
            "Variant Requires Shipping": "TRUE", "Variant Taxable": "TRUE",
            "Variant Barcode": "" if n % 2 else isbn13(n), "Gift Card": "FALSE", "Status": "active",
        })  # fmt: skip
        rows.append([row[h] for h in SHOPIFY_HEADER])
    return "products_export_1.csv", _csv(SHOPIFY_HEADER, rows)


SHOPIFY_MAPPING = {
    "columns": {"author": "Vendor", "isbn": ["Variant Barcode", "Variant SKU"], "price": "Variant Price",
                "quantity": "Variant Inventory Qty", "book_type": "Type", "description": "Body (HTML)"},
    "defaults": {"year_published": "2024"},
    "values": {"book_type": {"Fiction": "Classic", "Manga": "Comic", "Science": "Sci-tech", "Poetry": None}},
}  # fmt: skip


def shopify_variants(first: int, count: int = 3) -> tuple[str, bytes]:
    """A Shopify product export of books in two formats: per product, its first row (the product's
    title, vendor, type and description, and the hardcover variant), the paperback variant's row (its own
    barcode, price and stock; Shopify leaves the product's columns blank there) and a row that only adds
    an image. Book *n*'s hardcover is isbn13(2n), its paperback isbn13(2n + 1)."""
    rows = []
    for n in range(first, first + count):
        product = dict.fromkeys(SHOPIFY_HEADER, "")
        product.update({
            "Handle": f"book-{n}", "Title": f"Shop book {n}", "Body (HTML)": f"<p>About book {n}</p>",
            "Vendor": "Penguin", "Product Category": "Media > Books > Print Books", "Type": "Fiction",
            "Tags": "books", "Published": "TRUE", "Option1 Name": "Format", "Option1 Value": "Hardcover",
            "Variant Inventory Tracker": "shopify", "Variant Inventory Qty": "2", "Variant Inventory Policy": "deny",
            "Variant Fulfillment Service": "manual", "Variant Price": f"{20 + n}.00", "Variant Requires Shipping": "TRUE",
            "Variant Taxable": "TRUE", "Variant Barcode": isbn13(2 * n), "Image Src": f"https://cdn.example/{n}.jpg",
            "Image Position": "1", "Gift Card": "FALSE", "Status": "active",
        })  # fmt: skip
        paperback = dict.fromkeys(SHOPIFY_HEADER, "")
        paperback.update({
            "Handle": f"book-{n}", "Option1 Value": "Paperback", "Variant Inventory Tracker": "shopify",
            "Variant Inventory Qty": "5", "Variant Inventory Policy": "deny", "Variant Fulfillment Service": "manual",
            "Variant Price": f"{9 + n}.99", "Variant Requires Shipping": "TRUE", "Variant Taxable": "TRUE",
            "Variant Barcode": isbn13(2 * n + 1),
        })  # fmt: skip
        image = dict.fromkeys(SHOPIFY_HEADER, "")
        image.update({"Handle": f"book-{n}", "Image Src": f"https://cdn.example/{n}-back.jpg", "Image Position": "2"})
        rows.extend([row[h] for h in SHOPIFY_HEADER] for row in (product, paperback, image))
    return "products_export_1.csv", _csv(SHOPIFY_HEADER, rows)


SHOPIFY_VARIANTS_MAPPING = {**SHOPIFY_MAPPING, "group_by": "Handle"}


CALIBRE_HEADER = [
    "author_sort", "authors", "comments", "cover", "formats", "id", "identifiers", "isbn", "languages",
    "library_name", "pubdate", "publisher", "rating", "series", "series_index", "size", "tags", "timestamp",
    "title", "title_sort", "uuid",
]  # fmt: skip


def calibre(first: int, count: int = 4) -> tuple[str, bytes]:
    """A catalogue program's CSV catalogue: dates in ISO 8601 with a time zone (1990-09-01T00:00:00+00:00),
    ISBNs in their own column and among the identifiers, authors as "Frank Herbert & Brian Herbert"."""
    rows = []
    for n in range(first, first + count):
        row = dict.fromkeys(CALIBRE_HEADER, "")
        row.update({
            "author_sort": "Herbert, Frank", "authors": "Frank Herbert", "comments": f"<div><p>Book {n}</p></div>",
            "formats": "EPUB", "id": str(n), "identifiers": f"isbn:{isbn13(n)},amazon:B00{n:05d}", "isbn": isbn13(n),
            "languages": "eng", "library_name": "Library", "pubdate": f"{1960 + n % 40}-09-01T00:00:00+00:00",
            "publisher": "Ace", "rating": "4", "series": "Dune", "series_index": f"{n}.0", "size": "512000",
            "tags": "Science Fiction", "timestamp": "2024-01-02T10:22:31Z", "title": f"Dune {n}",
            "title_sort": f"Dune {n}", "uuid": f"00000000-0000-0000-0000-{n:012d}",
        })  # fmt: skip
        rows.append([row[h] for h in CALIBRE_HEADER])
    return "catalog.csv", _csv(CALIBRE_HEADER, rows)


CALIBRE_MAPPING = {
    "columns": {"author": "authors", "year_published": "pubdate", "description": "comments"},
    "defaults": {"book_type": "Classic", "price": "0.00", "quantity": "1"},
}


WOOCOMMERCE_HEADER = [
    "ID", "Type", "SKU", "Name", "Published", "Is featured?", "Visibility in catalog", "Short description",
    "Description", "Date sale price starts", "Date sale price ends", "Tax status", "Tax class", "In stock?", "Stock",
    "Low stock amount", "Backorders allowed?", "Sold individually?", "Weight (kg)", "Length (cm)", "Width (cm)",
    "Height (cm)", "Allow customer reviews?", "Purchase note", "Sale price", "Regular price", "Categories", "Tags",
    "Shipping class", "Images", "Download limit", "Download expiry days", "Parent", "Grouped products", "Upsells",
    "Cross-sells", "External URL", "Button text", "Position", "Attribute 1 name", "Attribute 1 value(s)",
    "Attribute 1 visible", "Attribute 1 global", "Attribute 2 name", "Attribute 2 value(s)", "Attribute 2 visible",
    "Attribute 2 global", "Meta: _wpcom_is_markdown",
]  # fmt: skip


def woocommerce(first: int, count: int = 2) -> tuple[str, bytes]:
    """A WooCommerce product export of books: per book *n*, a simple product (its own SKU, the ISBN
    isbn13(3n), price and stock; its author as attribute 1), then a variable product (no price or stock of
    its own) followed by its two variations, hardcover and paperback (isbn13(3n + 1) and isbn13(3n + 2)),
    linked by Parent "id:<its ID>", named "<product> - <format>", their author and description left blank."""
    rows = []
    for n in range(first, first + count):
        simple = dict.fromkeys(WOOCOMMERCE_HEADER, "")
        simple.update({
            "ID": str(100 * n), "Type": "simple", "SKU": isbn13(3 * n), "Name": f"Shop novel {n}", "Published": "1",
            "Is featured?": "0", "Visibility in catalog": "visible", "Short description": f"<p>Short {n}</p>",
            "Description": f"<p>A <strong>novel</strong> {n}&hellip;</p>", "Tax status": "taxable", "In stock?": "1",
            "Stock": str(n % 4 + 1), "Backorders allowed?": "0", "Sold individually?": "0",
            "Allow customer reviews?": "1", "Regular price": f"{10 + n}.50", "Categories": "Books > Fiction",
            "Attribute 1 name": "Author", "Attribute 1 value(s)": "Ann Leckie", "Attribute 1 visible": "1",
            "Attribute 1 global": "0", "Meta: _wpcom_is_markdown": "1",
        })  # fmt: skip
        parent_id = 100 * n + 1
        variable = dict.fromkeys(WOOCOMMERCE_HEADER, "")
        variable.update({
            "ID": str(parent_id), "Type": "variable", "SKU": f"SET-{n}", "Name": f"Shop saga {n}", "Published": "1",
            "Is featured?": "0", "Visibility in catalog": "visible", "Description": f"<p>The saga {n}.</p>",
            "Tax status": "taxable", "In stock?": "1", "Backorders allowed?": "0", "Sold individually?": "0",
            "Allow customer reviews?": "1", "Categories": "Books > Fiction", "Attribute 1 name": "Author",
            "Attribute 1 value(s)": "Iain Banks", "Attribute 1 visible": "1", "Attribute 1 global": "0",
            "Attribute 2 name": "Format", "Attribute 2 value(s)": "Hardcover, Paperback", "Attribute 2 visible": "1",
            "Attribute 2 global": "1",
        })  # fmt: skip
        rows.extend([simple, variable])
        for offset, form, price in ((1, "Hardcover", "24.00"), (2, "Paperback", "9.99")):
            variation = dict.fromkeys(WOOCOMMERCE_HEADER, "")
            variation.update({
                "ID": str(parent_id + offset), "Type": "variation", "SKU": isbn13(3 * n + offset),
                "Name": f"Shop saga {n} - {form}", "Published": "1", "Is featured?": "0",
                "Visibility in catalog": "visible", "Tax status": "taxable", "Tax class": "parent", "In stock?": "1",
                "Stock": str(offset + 1), "Backorders allowed?": "0", "Sold individually?": "0",
                "Allow customer reviews?": "0", "Regular price": price, "Parent": f"id:{parent_id}",
                "Position": str(offset), "Attribute 2 name": "Format", "Attribute 2 value(s)": form,
                "Attribute 2 global": "1",
            })  # fmt: skip
            rows.append(variation)
    return "wc-product-export.csv", _csv(WOOCOMMERCE_HEADER, [[row[h] for h in WOOCOMMERCE_HEADER] for row in rows])


WOOCOMMERCE_MAPPING = {
    "columns": {"isbn": "SKU", "author": "Attribute 1 value(s)"},
    "defaults": {"book_type": "Classic", "year_published": "2024"},
    "group_by": "Parent",
}


#: Zotero's CSV export (File → Export Library…, format CSV): one column per item field of every item type.
ZOTERO_HEADER = [
    "Key",
    "Item Type",
    "Publication Year",
    "Author",
    "Title",
    "Publication Title",
    "ISBN",
    "ISSN",
    "DOI",
    "Url",
    "Abstract Note",
    "Date",
    "Date Added",
    "Date Modified",
    "Access Date",
    "Pages",
    "Num Pages",
    "Issue",
    "Volume",
    "Number Of Volumes",
    "Journal Abbreviation",
    "Short Title",
    "Series",
    "Series Number",
    "Series Text",
    "Series Title",
    "Publisher",
    "Place",
    "Language",
    "Rights",
    "Type",
    "Archive",
    "Archive Location",
    "Library Catalog",
    "Call Number",
    "Extra",
    "Notes",
    "File Attachments",
    "Link Attachments",
    "Manual Tags",
    "Automatic Tags",
    "Editor",
    "Series Editor",
    "Translator",
    "Contributor",
    "Attorney Agent",
    "Book Author",
    "Cast Member",
    "Commenter",
    "Composer",
    "Cosponsor",
    "Counsel",
    "Interviewer",
    "Producer",
    "Recipient",
    "Reviewed Author",
    "Scriptwriter",
    "Words By",
    "Guest",
    "Number",
    "Edition",
    "Running Time",
    "Scale",
    "Medium",
    "Artwork Size",
    "Filing Date",
    "Application Number",
    "Assignee",
    "Issuing Authority",
    "Country",
    "Meeting Name",
    "Conference Name",
    "Court",
    "References",
    "Reporter",
    "Legal Status",
    "Priority Numbers",
    "Programming Language",
    "Version",
    "System",
    "Code",
    "Code Number",
    "Section",
    "Session",
    "Committee",
    "History",
    "Legislative Body",
]


#: The authors of a Zotero item as its CSV export writes them, in turn: each "Last, First", several in
#: their order separated by "; " (its editors are in a column of their own).
ZOTERO_AUTHORS = ("Herbert, Frank; Anderson, Kevin J.", "Herbert, Frank", "Le Guin, Ursula K.")


def zotero(first: int, count: int = 5, isbns=None, authors=ZOTERO_AUTHORS) -> tuple[str, bytes]:
    """A Zotero CSV export (UTF-8 with a byte order mark): *authors* in turn ("Herbert, Frank; Anderson,
    Kevin J."), an editor in Editor, and each book's ISBN-13 and ISBN-10 in its ISBN cell, separated by a
    space (*isbns*: n → the cell, else that)."""
    rows = []
    for n in range(first, first + count):
        row = dict.fromkeys(ZOTERO_HEADER, "")
        row.update({
            "Key": f"ABCD{1200 + n}", "Item Type": "book", "Publication Year": str(1960 + n % 50),
            "Author": authors[(n - first) % len(authors)], "Title": f"Dune {n}",
            "ISBN": (isbns and isbns(n)) or f"{isbn13_of(n)} {isbn10(n)}", "Abstract Note": "An abstract.",
            "Date": str(1960 + n % 50), "Date Added": "2024-03-02 10:11:12", "Num Pages": str(400 + n),
            "Publisher": "Ace", "Place": "New York", "Language": "en", "Library Catalog": "Library of Congress ISBN",
            "Editor": "Editor, Some",
        })  # fmt: skip
        rows.append([row[h] for h in ZOTERO_HEADER])
    return "zotero_export.csv", b"\xef\xbb\xbf" + _csv(ZOTERO_HEADER, rows)


ZOTERO_MAPPING = {"defaults": {"book_type": "Classic", "price": "0.00", "quantity": "1"}}


#: An inventory flat file of a marketplace's seller tools (books category): a template row, the labels a
#: person reads, then the field names the marketplace reads.
AMAZON_FLATFILE_TEMPLATE = [
    "TemplateType=fptcustom", "Version=2021.0312", "TemplateSignature=Qk9PS1M=",
    "The top 3 rows are for Amazon.com use only. Do not modify or delete the top 3 rows.",
]  # fmt: skip
AMAZON_FLATFILE_LABELS = [
    "Product Type", "Seller SKU", "Product ID", "Product ID Type", "Title", "Author", "Binding", "Publication Date",
    "Standard Price", "Quantity", "Condition Type", "Condition Note", "Product Description", "Number of Pages",
]  # fmt: skip
AMAZON_FLATFILE_FIELDS = [
    "feed_product_type", "item_sku", "external_product_id", "external_product_id_type", "item_name", "author",
    "binding", "publication_date", "standard_price", "quantity", "condition_type", "condition_note",
    "product_description", "pages",
]  # fmt: skip


def amazon_flatfile(first: int, count: int = 4) -> tuple[str, bytes]:
    """An inventory flat file: tab-separated, its labels on row 2 and its field names on row 3, ISBN-10s as
    the product IDs."""
    rows = [AMAZON_FLATFILE_FIELDS]
    for n in range(first, first + count):
        rows.append([
            "ABIS_BOOK", f"SKU-{isbn10(n)}", isbn10(n), "ISBN", f"Dune {n}", "Frank Herbert", "paperback",
            "1965-01-01", "9.99", "3", "UsedVeryGood", "Light shelf wear", f"A novel, part {n}.", str(400 + n),
        ])  # fmt: skip
    template = AMAZON_FLATFILE_TEMPLATE + [""] * (len(AMAZON_FLATFILE_LABELS) - len(AMAZON_FLATFILE_TEMPLATE))
    return "amazon_flatfile_books.txt", _csv(template, [AMAZON_FLATFILE_LABELS, *rows], delimiter="\t")


#: A marketplace's File Exchange listing sheet (books): * marks a required column, C: an item specific.
EBAY_FILE_EXCHANGE_HEADER = [
    "*Action(SiteID=US|Country=US|Currency=USD|Version=1193|CC=UTF-8)", "CustomLabel", "*Category",
    "StoreCategory", "*Title", "Subtitle", "*ConditionID", "Product:ISBN", "C:Author", "C:Publication Year",
    "C:Format", "C:Language", "C:Number of Pages", "*Description", "*Format", "*Duration", "*StartPrice",
    "*Quantity", "PicURL", "*Location", "ShippingProfileName", "ReturnProfileName", "PaymentProfileName",
]  # fmt: skip


def ebay_file_exchange(first: int, count: int = 5) -> tuple[str, bytes]:
    """A File Exchange sheet of books to list: the category ID 261186 (Books) in *Category, ISBN-13s."""
    rows = []
    for n in range(first, first + count):
        rows.append([
            "Add", f"SKU{n}", "261186", "", f"Dune {n}", "", "3000", isbn13_of(n), "Frank Herbert", "1965",
            "Paperback", "English", str(400 + n), f"Dune, part {n}.", "FixedPrice", "GTC", "9.99", "3",
            "https://images.example/x.jpg", "Portland, OR", "Free", "30d", "PayPal",
        ])  # fmt: skip
    return "ebay_file_exchange.csv", _csv(EBAY_FILE_EXCHANGE_HEADER, rows)


#: A book collection program's CSV export (its default columns): dates written with the month's name.
CLZ_BOOKS_HEADER = [
    "Title", "Author", "Series", "Publisher", "Publication Date", "Format", "No. of Pages", "Genre", "ISBN",
    "Purchase Price", "Purchase Date", "Location", "Quantity", "Read It", "Plot", "Added Date", "Edition",
]  # fmt: skip


def clz_books(
    first: int, count: int = 4, dates=("Jan 01, 1965", "1 January 1965", "January 1965")
) -> tuple[str, bytes]:
    """A CLZ Books export: authors "Last, First", Publication Date as "Jan 01, 1965" (or *dates*, in turn)."""
    rows = []
    for n in range(first, first + count):
        rows.append([
            f"Dune {n}", "Herbert, Frank", "", "Ace", dates[n % len(dates)], "Paperback", str(400 + n), "Classic",
            isbn10(n), "$9.99", "Mar 02, 2024", "Shelf A", "3", "Yes", "Plot text", "Mar 02, 2024 10:11", "1st",
        ])  # fmt: skip
    return "clz_books_export.csv", _csv(CLZ_BOOKS_HEADER, rows)


CLZ_BOOKS_MAPPING = {"columns": {"price": "Purchase Price", "description": "Plot"}}


#: A reading app's CSV export (its full column list): Genre is a reading genre, no book type.
BOOKBUDDY_HEADER = [
    "Title",
    "Original Title",
    "Subtitle",
    "Series",
    "Volume",
    "Author",
    "Author (Last, First)",
    "Illustrator",
    "Narrator",
    "Translator",
    "Photographer",
    "Editor",
    "Publisher",
    "Place of Publication",
    "Date Published",
    "Year Published",
    "Original Date Published",
    "Original Year Published",
    "Edition",
    "Genre",
    "Summary",
    "Guided Reading Level",
    "Lexile Measure",
    "Lexile Code",
    "Grade Level",
    "Age Group",
    "Interest Level",
    "Ages",
    "Reading Age",
    "Dewey Decimal",
    "Format",
    "Physical Description",
    "Number of Pages",
    "Subjects",
    "Location",
    "Condition",
    "Category",
    "Collection",
    "Tags",
    "Rating",
    "Reading Status",
    "Date Started",
    "Date Finished",
    "Loaned To",
    "Date Loaned",
    "Borrowed From",
    "Date Borrowed",
    "Returned from Borrow",
    "Not Owned Reason",
    "Quantity",
    "Length",
    "Width",
    "Height",
    "Weight",
    "Price",
    "Value",
    "Status",
    "Series Details",
    "Purchase Date",
    "Purchase Place",
    "Purchase Price",
    "ISBN",
    "UPC",
    "EAN",
    "Amazon ASIN",
    "Uploaded Image URL",
    "LCCN",
    "OCLC",
    "Notes",
    "Wish List",
    "Previously Owned",
    "Up Next",
    "Signed",
    "Favorites",
    "Date Added",
    "Date Edited",
    "Language",
    "Original Language",
]


#: The reading genres a BookBuddy export's Genre holds, in turn: mostly no book type.
BOOKBUDDY_GENRES = ("Science Fiction", "Science Fiction, Cyberpunk", "Classics", "Horror", "Fiction")


def bookbuddy(first: int, count: int = 5, genres=BOOKBUDDY_GENRES, prices=("$9.99", "$4.50")) -> tuple[str, bytes]:
    """A BookBuddy export: Genre (a reading genre, in turn from *genres*), ISBN-13s, and *prices*: its Price
    (the book's) and its Purchase Price (what its owner paid), written as $9.99."""
    return "bookbuddy_export.csv", _csv(BOOKBUDDY_HEADER, bookbuddy_rows(first, count, genres, prices))


def bookbuddy_rows(first: int, count: int = 5, genres=BOOKBUDDY_GENRES, prices=("$9.99", "$4.50")) -> list[list[str]]:
    """A BookBuddy export's rows, as its CSV holds them (every cell text): opened in a spreadsheet and
    saved as a workbook, they are the workbook's cells."""
    rows = []
    for n in range(first, first + count):
        row = dict.fromkeys(BOOKBUDDY_HEADER, "")
        row.update({
            "Title": f"Dune {n}", "Author": "Frank Herbert", "Author (Last, First)": "Herbert, Frank",
            "Publisher": "Ace", "Date Published": "Jun 1, 1965", "Year Published": "1965",
            "Genre": genres[n % len(genres)], "Summary": "Line one.", "Format": "Paperback",
            "Number of Pages": str(400 + n), "Quantity": "3", "Price": prices[0], "Purchase Price": prices[1],
            "ISBN": isbn13_of(n), "Date Added": "12/01/2024 14:03", "Language": "English",
        })  # fmt: skip
        rows.append([row[h] for h in BOOKBUDDY_HEADER])
    return rows


#: A library system's catalogue report saved as CSV: its columns are the system's own catalogue fields,
#: their values as the catalogue record holds them (a MARC record's ISBN with its qualifier, its date of
#: publication and extent with the punctuation that separates them from what follows).
CATALOGUE_REPORT_HEADER = [
    "biblionumber", "title", "author", "isbn", "publicationyear", "pages", "publishercode", "place", "itemtype",
    "copies", "price", "itemcallnumber",
]  # fmt: skip
#: How the catalogue writes book *n*'s ISBN (its ISBN-10, its ISBN-13 and the hyphenated ISBN-10), in turn.
CATALOGUE_ISBNS = (
    "{isbn10} (pbk.)",
    "{isbn13} (hardcover : alk. paper)",
    "ISBN {hyphenated}",
    "{isbn10} (pbk.) | {isbn13}",
)
CATALOGUE_YEARS = ("c1965.", "[1965]", "1965.", "©1965", "p1965")
#: How the catalogue closes book *n*'s title and author (ISBD punctuation, kept in the MARC record's title
#: proper and name): " /" before the statement of responsibility, " :" before a subtitle, "." closing the
#: field; "," before the author's dates, "." closing a name given alone.
CATALOGUE_TITLES = ("Dune {n} /", "Dune {n} :", "Dune {n} /", "Dune {n}.")
CATALOGUE_AUTHORS = ("Herbert, Frank,", "Herbert, Frank.", "Herbert, Frank,")
CATALOGUE_PAGES = ("{pages} p.", "{pages} p. ;", "xii, {pages} p. :", "{pages} pages")


def catalogue_report(first: int, count: int = 8, cells=None) -> tuple[str, bytes]:
    """A catalogue report: book *n*'s title, author, ISBN, year and pages written as CATALOGUE_TITLES,
    CATALOGUE_AUTHORS, CATALOGUE_ISBNS, CATALOGUE_YEARS and CATALOGUE_PAGES say, in turn (*cells*: n →
    {header: cell} for the cells written otherwise)."""
    rows = []
    for n in range(first, first + count):
        ten = isbn10(n)
        spelled = {"isbn10": ten, "isbn13": isbn13_of(n), "hyphenated": f"{ten[0]}-{ten[1:4]}-{ten[4:9]}-{ten[9]}"}
        row = {
            "biblionumber": str(500 + n), "title": CATALOGUE_TITLES[n % len(CATALOGUE_TITLES)].format(n=n),
            "author": CATALOGUE_AUTHORS[n % len(CATALOGUE_AUTHORS)],
            "isbn": CATALOGUE_ISBNS[n % len(CATALOGUE_ISBNS)].format(**spelled),
            "publicationyear": CATALOGUE_YEARS[n % len(CATALOGUE_YEARS)],
            "pages": CATALOGUE_PAGES[n % len(CATALOGUE_PAGES)].format(pages=400 + n), "publishercode": "Ace Books",
            "place": "New York :", "itemtype": "BK", "copies": "2", "price": "9.99", "itemcallnumber": "PS3558.E63 D8",
            **((cells and cells(n)) or {}),
        }  # fmt: skip
        rows.append([row[h] for h in CATALOGUE_REPORT_HEADER])
    return "catalogue_report.csv", _csv(CATALOGUE_REPORT_HEADER, rows)


CATALOGUE_REPORT_MAPPING = {"defaults": {"book_type": "Classic"}}


#: A bookshop's stock list in French, German and Spanish, as a shop keeps it in a spreadsheet: each
#: language's own headers, the publisher's column among them.
STOCK_LIST_HEADERS = {
    "fr": ["EAN", "Titre", "Auteur", "Éditeur", "Genre", "Année", "Nombre de pages", "Prix", "Qté", "Résumé"],
    "de": ["ISBN", "Titel", "Autor", "Verlag", "Typ", "Erscheinungsjahr", "Seitenzahl", "Preis", "Bestand",
           "Beschreibung"],
    "es": ["ISBN", "Título", "Autor", "Editorial", "Género", "Año", "Páginas", "Precio", "Existencias",
           "Descripción"],
}  # fmt: skip
#: Each language's kinds of book, as a shop's own shelves name them.
STOCK_LIST_GENRES = {"fr": ("Roman", "BD"), "de": ("Roman", "Comic"), "es": ("Novela", "Cómic")}


def stock_list(
    language: str, first: int, count: int = 4, header: list[str] | None = None, kinds: list[str] | None = None
) -> tuple[str, bytes]:
    """A shop's stock list as a spreadsheet program saves it as CSV where the language is spoken:
    semicolon-separated, Windows-1252, decimal commas (12,50); the genres of STOCK_LIST_GENRES in turn
    (*header*: its own header instead, as the shop typed it; *kinds*: each row's genre instead, in order)."""
    genres = STOCK_LIST_GENRES[language]
    rows = [
        [isbn13_of(n), f"Dune {n}", "Frank Herbert", "Ace", kinds[n - first] if kinds else genres[n % 2], "1965",
         str(400 + n), f"{10 + n},50", str(n % 4 + 1), f"Arrakis, {n}."]
        for n in range(first, first + count)
    ]  # fmt: skip
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows([header or STOCK_LIST_HEADERS[language], *rows])
    return f"stock_{language}.csv", buffer.getvalue().encode("cp1252")


#: A shop's stock sheet kept in a spreadsheet set to a European locale.
EURO_SHEET_HEADER = ["Title", "Author", "Type", "ISBN", "Year", "Price", "Pages", "Stock"]
#: Its prices as the sheet shows them (a money format: decimal comma, thousands point, the euro sign
#: after or before), in turn.
EURO_PRICES = ("9,99 €", "12,50 €", "1.234,50 €", "€ 0,99", "7,5")


def euro_sheet(first: int, count: int = 5, prices=EURO_PRICES, titles=None, authors=None) -> tuple[str, bytes]:
    """The sheet downloaded as CSV: comma-separated whatever the locale, each cell as the sheet shows it,
    so every price, holding a comma, is quoted ("9,99 €"). Prices in turn from *prices* (and titles and
    authors from *titles* and *authors*: else "Dune n" by Frank Herbert)."""
    rows = [
        [titles[(n - first) % len(titles)] if titles else f"Dune {n}",
         authors[(n - first) % len(authors)] if authors else "Frank Herbert", "Classic", isbn13_of(n), "1965",
         prices[(n - first) % len(prices)], str(400 + n), "3"]
        for n in range(first, first + count)
    ]  # fmt: skip
    return "stock_list.csv", _csv(EURO_SHEET_HEADER, rows)
