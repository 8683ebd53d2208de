"""Match values: Book type's values as the matching page lists them, with their counts over the whole
file (a product export's rows counted as the import reads them) and each one's current choice."""

from __future__ import annotations

from dataclasses import dataclass, field

from .book_types import offered_type, pre_matched
from .fields import FIELDS
from .mapping import value_key
from .matching import REJECT, Choices


@dataclass
class ValueRow:
    text: str
    count: int | None
    #: The select's value: a type, REJECT or "" (not matched yet).
    choice: str
    pre_matched: bool
    #: Whether the choice is a match made by a person (else the pre-match, the offer, or nothing yet).
    saved: bool = False
    #: Whether the choice is offered, the value being a type's name with another ending ("Magazin").
    offered: bool = False


@dataclass
class ValueSection:
    """Book type's values to match: those of its columns in the file, or (no file) the saved matches."""

    columns: list[str]
    rows: list[ValueRow] = field(default_factory=list)
    #: A column whose values are too many to list (its approximate number of distinct values).
    too_many: tuple[str, int] | None = None
    #: Whether the values come from the file (else from the saved matches only).
    from_file: bool = True
    #: Whether a column names each row's item, so that rows may take a value from their item's first row.
    grouped: bool = False
    #: Whether each count is every row the import will read with the value; False: only the rows holding
    #: it, not those that take it from their item's first row (item_values.ItemValues did not count them).
    exact: bool = True

    @property
    def needed(self) -> bool:
        """Whether anything is left to decide: a value that is not a type already, or a saved match."""
        return any(not r.pre_matched or r.saved for r in self.rows)

    @property
    def unmatched(self) -> list[ValueRow]:
        return [r for r in self.rows if not r.choice]

    @property
    def key(self) -> str:
        """What the section depends on (the page replaces it when this changes): its columns, and its counts
        (the column naming each row's item, and the columns matched, change those of a shop's export)."""
        counts = ",".join(str(r.count) for r in self.rows) if self.from_file else ""
        return "\x1f".join(self.columns) + f"\x1e{counts}\x1e{self.grouped:d}{self.exact:d}"


def value_section(choices: Choices, profile: dict | None) -> ValueSection:
    """Return Book type's values with their counts over the whole file, each with its current choice."""
    chain = choices.chain("book_type")
    section = ValueSection(columns=chain, from_file=profile is not None, grouped=bool(choices.group_by))
    counts: dict[object, int | None] = {}
    #: Values are one when only their case and spacing differ (as the value map reads them): each is
    #: shown as the file first wrote it.
    texts: dict[object, str] = {}
    if profile is not None:
        at = {}
        for index, column in enumerate(profile.get("columns", [])):
            at.setdefault((column.get("header") or "").casefold(), index)
        for text in chain:
            index = at.get(text.casefold())
            if index is None:
                continue
            column = profile["columns"][index]
            if column.get("values") is None:
                section.too_many = (text, column.get("distinct") or 0)
                return section
            others, exact = not_their_own(choices, profile, index, at)
            section.exact = section.exact and exact
            for value, count in [*column["values"], *others]:
                key = value_key(value)
                if key:
                    counts[key] = (counts.get(key) or 0) + count
                    texts.setdefault(key, value.strip() if isinstance(value, str) else str(value))
        counts = {key: count for key, count in counts.items() if count > 0}  # only in rows left out: none
    chosen = {value_key(text): (text, target) for text, target in choices.values.items()}
    for key, (text, _) in chosen.items():
        counts.setdefault(key, None)
        texts.setdefault(key, text)
    for key, count in sorted(counts.items(), key=lambda item: (-(item[1] or 0), texts[item[0]].casefold())):
        text = texts[key]
        found = pre_matched(text)
        offer = None
        if key in chosen:
            target = chosen[key][1]
            choice = REJECT if target is None else target
        else:
            offer = None if found else offered_type(text)
            choice = found or offer or ""
        section.rows.append(ValueRow(text, count, choice, found is not None, key in chosen, offer is not None))
    return section


def not_their_own(
    choices: Choices, profile: dict, index: int, at: dict[str, int]
) -> tuple[list[tuple[str, int]], bool]:
    """Return the counts to add to the values of a column of the file (*index*; *at*: each header's
    column) for the rows the import reads with each value: less a product export's variable and grouped
    products' own rows, left out; with the column naming each row's item chosen, plus the rows continuing
    an item that take the value from the item's first row, unless they hold nothing in the matched
    columns (left out too). Both as item_values.ItemValues counted them. And whether that is every row:
    False when a row may take a value from its item's first row that was not counted (another column
    names the items, or the profile is from before they were counted)."""
    items = profile.get("items") or {}
    counted = items.get("columns", {}).get(str(index)) or {"continued": [], "left_out": []}
    others = [(value, -count) for value, count in counted["left_out"]]
    if not choices.group_by:
        return others, True
    if items.get("by", "").casefold() != choices.group_by.casefold() or index in items.get("uncounted", ()):
        return others, not profile["columns"][index].get("blank")
    read = {at[text.casefold()] for fld in FIELDS for text in choices.chain(fld) if text.casefold() in at}
    kinds = items["kinds"]
    others += [(value, count) for value, kind, count in counted["continued"] if read.intersection(kinds[kind])]
    return others, True
