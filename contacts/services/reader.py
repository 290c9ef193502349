"""Reads an import file (CSV in UTF-8 with or without BOM, or XLSX) as a stream of rows.

`open_source(path)` checks the file as a whole first and raises `ImportRefused` with a message
for staff when it cannot be imported at all (not UTF-8, binary, no `phone` column, empty);
nothing has been written at that point. Then `Source.rows()` yields `(line, cells)` lazily,
so memory stays flat whatever the file size. Plain Python, no Django.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from contacts.services.rowparse import column_spec, header_key

DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_SCAN_BLOCK = 1 << 20
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (Excel 97-2003), .doc...

csv.field_size_limit(1 << 20)
MAX_LINE_BYTES = 1 << 20  # the csv field limit above: no line of a contacts file comes near it


class ImportRefused(Exception):
    """The file cannot be imported at all; the message says why, for staff."""


@dataclass
class Source:
    path: str
    kind: str  # "csv" | "xlsx"
    header: list[str]
    spec: dict
    delimiter: str = ","
    size: int = 0
    position: int = 0  # bytes consumed so far (approximate for XLSX), for progress
    _file: object = field(default=None, repr=False)

    @property
    def description(self) -> str:
        if self.kind == "xlsx":
            return "XLSX"
        return f"CSV, {_DELIMITER_NAMES[self.delimiter]}-separated"

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        if self.kind == "xlsx":
            yield from self._xlsx_rows()
        else:
            yield from self._csv_rows()

    def _csv_rows(self):
        with open(self.path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            reader = csv.reader(text, delimiter=self.delimiter)
            header_seen = False
            count = 0
            for cells in reader:
                if not header_seen:
                    if any(c.strip() for c in cells):
                        header_seen = True
                    continue
                count += 1
                if count & 4095 == 0:
                    self.position = raw.tell()
                if not any(cells):  # blank lines are not rows
                    continue
                yield reader.line_num, cells
            self.position = self.size

    def blocks(self, block_bytes: int = 1 << 20) -> Iterator[tuple[bytes, int, int]]:
        """CSV only: (bytes, first line number, end offset), each block whole records.

        A block is cut after a line end where the count of '"' so far is even, i.e. not
        inside a quoted field (escaped quotes come in pairs), so workers can parse blocks
        independently and line numbers stay exact. Line ends are "\n" (or "\r\n"), or "\r"
        for a file with old Mac line ends.
        """
        with open(self.path, "rb") as raw:
            start = len(codecs.BOM_UTF8) if raw.read(3) == codecs.BOM_UTF8 else 0
            raw.seek(start)
            head = raw.read(1 << 16)
            raw.seek(start)
            newline = b"\r" if b"\n" not in head and b"\r" in head else b"\n"
            # Skip blank lines and the header row.
            line, pending = 1, b""
            while True:
                end = pending.find(newline)
                if end < 0:
                    data = raw.read(block_bytes)
                    if not data:
                        return
                    pending += data
                    continue
                text, pending = pending[: end + 1], pending[end + 1 :]
                line += 1
                if text.strip():
                    break
            while True:
                if len(pending) >= block_bytes:
                    cut = _record_boundary(pending[:block_bytes], newline) or _record_boundary(pending, newline)
                    if cut > 0:
                        block, pending = pending[:cut], pending[cut:]
                        self.position = raw.tell() - len(pending)
                        yield block, line, self.position
                        line += block.count(newline)
                        continue
                data = raw.read(block_bytes)  # no whole record yet (or a very long one): read on
                if not data:
                    if pending:
                        self.position = self.size
                        yield pending, line, self.size
                    return
                pending += data

    def _xlsx_rows(self):
        import openpyxl

        fh = open(self.path, "rb")  # a file object: openpyxl would judge a path by its extension
        workbook = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            total = sheet.max_row or 0
            header_seen = False
            for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [_cell_text(v) for v in values]
                if total and line & 1023 == 0:
                    self.position = min(self.size, self.size * line // total)
                if not any(c.strip() for c in cells):
                    continue
                if not header_seen:
                    header_seen = True
                    continue
                yield line, cells
        finally:
            workbook.close()
            fh.close()
        self.position = self.size


def _record_boundary(buffer: bytes, newline: bytes = b"\n") -> int:
    """The end (exclusive) of the last whole record in `buffer`, or 0 if none."""
    cut = buffer.rfind(newline)
    if b'"' not in buffer:
        return cut + 1
    while cut >= 0 and buffer.count(b'"', 0, cut + 1) % 2:
        cut = buffer.rfind(newline, 0, cut)
    return cut + 1


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number typed as a number in Excel
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def open_source(path: str | os.PathLike) -> Source:
    path = os.fspath(path)
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
    if size == 0 or (not head.strip() and size < 8):
        raise ImportRefused("The file is empty.")
    if head.startswith(XLSX_MAGIC):
        return _open_xlsx(path, size)
    if head.startswith(OLE_MAGIC):
        raise ImportRefused(
            "This is an old Excel (.xls) or other binary file: save it as XLSX or as CSV UTF-8."
        )
    _check_text(path)
    return _open_csv(path, size)


def _check_text(path: str) -> None:
    """The whole file must be UTF-8 text: checked before anything is written."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    lines_before = 0  # newlines before this block
    carried = 0  # length of the line still open at the end of the previous block
    with open(path, "rb") as fh:
        while block := fh.read(_SCAN_BLOCK):
            # A line over the CSV field limit would stop the reader half-way: refuse it now.
            lengths = list(map(len, block.split(b"\n")))
            lengths[0] += carried
            if max(lengths) > MAX_LINE_BYTES:
                index = next(i for i, length in enumerate(lengths) if length > MAX_LINE_BYTES)
                raise ImportRefused(
                    f"Line {lines_before + index + 1} is longer than 1 MiB (a field larger than a contacts "
                    "file ever holds): this is not a contacts file."
                )
            carried = lengths[-1]
            lines_before += len(lengths) - 1
            if b"\x00" in block:
                raise ImportRefused(
                    "This is not a CSV file: it contains binary data (NUL bytes at byte "
                    f"{offset + block.index(0)}). Upload a CSV in UTF-8 or an XLSX file."
                )
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                raise ImportRefused(
                    f"The file is not UTF-8 text (invalid byte 0x{block[exc.start]:02x} at byte "
                    f"{offset + exc.start}). Save it as 'CSV UTF-8' or XLSX and upload it again."
                ) from None
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ImportRefused("The file is not UTF-8 text (it ends inside a character).") from None


def _first_lines(path: str, count: int = 6) -> list[str]:
    lines = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for line in fh:
            if line.strip():
                lines.append(line)
                if len(lines) >= count:
                    break
    return lines


def _parse_line(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _open_csv(path: str, size: int) -> Source:
    lines = _first_lines(path)
    if not lines:
        raise ImportRefused("The file is empty.")
    header_line = lines[0]
    candidates = [
        d for d in DELIMITERS if "phone" in column_spec(_parse_line(header_line, d))["fields"]
    ]
    if not candidates:
        found = max((_parse_line(header_line, d) for d in DELIMITERS), key=len)
        shown = ", ".join(repr(c.strip()) for c in found[:8] if c.strip()) or "nothing"
        raise ImportRefused(
            "No 'phone' column: the first row must be a header naming a 'phone' column "
            f"(comma, semicolon or tab separated). Found {shown}."
        )
    if len(candidates) == 1:
        delimiter = candidates[0]
    else:  # a header with one column: the data lines tell the delimiter
        sample = "".join(lines)
        delimiter = max(candidates, key=lambda d: (sample.count(d), d == ","))
    header = _parse_line(header_line, delimiter)
    if len(lines) < 2:
        raise ImportRefused("The file has a header row but no data rows.")
    spec = column_spec(header)
    spec["delimiter"] = delimiter
    return Source(path=path, kind="csv", header=header, spec=spec, delimiter=delimiter, size=size)


def _open_xlsx(path: str, size: int) -> Source:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    fh = open(path, "rb")
    try:
        workbook = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        fh.close()
        raise ImportRefused(f"This is not a readable XLSX file ({exc}).") from None
    try:
        if not workbook.worksheets:
            raise ImportRefused("The XLSX file has no worksheet.")
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = None
        has_data = False
        for values in rows:
            cells = [_cell_text(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = cells
                continue
            has_data = True
            break
    finally:
        workbook.close()
        fh.close()
    if header is None:
        raise ImportRefused("The file is empty.")
    spec = column_spec(header)
    if "phone" not in spec["fields"]:
        shown = ", ".join(repr(c) for c in header[:8] if c.strip())
        raise ImportRefused(
            f"No 'phone' column: the first row of the first sheet must name a 'phone' column. "
            f"Found {shown}."
        )
    if not has_data:
        raise ImportRefused("The file has a header row but no data rows.")
    spec["delimiter"] = ","
    return Source(path=path, kind="xlsx", header=header, spec=spec, size=size)


__all__ = ["DELIMITERS", "ImportRefused", "Source", "header_key", "open_source"]
