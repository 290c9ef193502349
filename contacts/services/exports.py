"""CSV exports. Every cell that a spreadsheet would run as a formula is escaped."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator

from core.masking import can_view_full_numbers

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value) -> str:
    """'=1+2' -> "'=1+2" (OWASP CSV injection); '+3247...' keeps its '+' in Excel as well."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    def write(self, value):
        return value


def csv_lines(rows: Iterable[Iterable], *, bom: bool = True) -> Iterator[str]:
    """Escaped CSV text, line by line (for a StreamingHttpResponse)."""
    writer = csv.writer(_Echo())
    if bom:
        yield "\ufeff"  # Excel opens UTF-8 correctly only with a BOM
    for row in rows:
        yield writer.writerow([escape_cell(cell) for cell in row])


def masked_rows(rows: Iterable[Iterable], user, *, columns: dict[int, Callable[[str], str]]) -> Iterator[list]:
    """`rows` (header first) with the cells at `columns` passed through their maskers, unless
    `user` may see full numbers (``core.view_full_numbers``); the header passes unchanged."""
    if can_view_full_numbers(user):
        yield from rows
        return
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None:
        return
    yield header
    for row in iterator:
        row = list(row)
        for index, mask in columns.items():
            row[index] = mask("" if row[index] is None else str(row[index]))
        yield row
