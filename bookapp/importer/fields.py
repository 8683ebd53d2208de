"""The book fields a file can fill, their limits and the allowed book types."""

#: Fields in the order they are stored and reported.
FIELDS = (
    "title",
    "author",
    "book_type",
    "isbn",
    "year_published",
    "price",
    "no_of_pages",
    "quantity",
    "description",
)
OPTIONAL_FIELDS = frozenset({"no_of_pages", "description"})
#: Fields a file may write in HTML (a shop's product description): read as the text it shows.
MARKUP_FIELDS = frozenset({"description"})
REQUIRED_FIELDS = tuple(f for f in FIELDS if f not in OPTIONAL_FIELDS)

#: Column headings used in templates, exports and reports.
LABELS = {
    "title": "Title",
    "author": "Author",
    "book_type": "Book type",
    "isbn": "ISBN",
    "year_published": "Year published",
    "price": "Price",
    "no_of_pages": "No. of pages",
    "quantity": "Quantity",
    "description": "Description",
}

BOOK_TYPES = ("Sci-tech", "Magazine", "Comic", "Classic", "Horror")

MAX_LENGTHS = {"title": 255, "author": 255, "description": 10_000}
#: NUMERIC(10, 2): at most 8 digits before the decimal point.
MAX_PRICE_DIGITS = 8
#: Integers are stored in 32-bit columns.
MAX_INT = 2**31 - 1
