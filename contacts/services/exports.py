"""CSV exports. Every cell that a spreadsheet would run as a formula is escaped."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

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
