"""Tables from files, once: CSV (UTF-8 with or without BOM, delimiter sniffed) or XLSX, streamed.

``open_table(path)`` checks the file as a whole first and raises ``TableRefused`` with a
message for staff when it cannot be read at all (not UTF-8, binary, no number column, empty);
nothing has been written at that point. Then ``Table.rows()`` yields ``(line, cells)`` lazily
(``Table.dicts()`` the same with the header's keys), so memory stays flat whatever the size;
``Table.blocks()`` cuts a CSV into byte blocks of whole records for parallel parsing.

``NUMBER_COLUMNS`` is the one list of header names that mean "the phone number" for every
import (contacts, campaign and bulk-call lists, unsubscribers). Plain Python, no Django.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["DELIMITERS", "NUMBER_COLUMNS", "Table", "TableRefused", "header_key", "number_column",
           "open_table", "open_upload"]

# Header names (after `header_key`) that name the phone number column, in order of preference.
NUMBER_COLUMNS = ("phone", "phone_number", "phonenumber", "number", "mobile", "mobile_number", "msisdn",
                  "receiver", "to", "telephone", "téléphone", "tel", "gsm")  # fmt: skip

DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_SCAN_BLOCK = 1 << 20
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (Excel 97-2003), .doc...

csv.field_size_limit(1 << 20)
MAX_LINE_BYTES = 1 << 20  # the csv field limit above: no line of an import file comes near it
_NON_KEY = re.compile(r"[\W_]+")


class TableRefused(Exception):
    """The file cannot be read at all; the message says why, for staff."""


def header_key(cell) -> str:
    """'First Name ' -> 'first_name'; 'E-mail' -> 'e_mail'; 'Prénom' -> 'prénom'."""
    return _NON_KEY.sub("_", str(cell or "").strip().lower()).strip("_")


def number_column(header: list[str]) -> int | None:
    """The index of the phone number column: the most preferred of NUMBER_COLUMNS present."""
    keys = [header_key(cell) for cell in header]
    for name in NUMBER_COLUMNS:
        if name in keys:
            return keys.index(name)
    return None


def _has_number_column(header: list[str]) -> bool:
    return number_column(header) is not None


@dataclass
class Table:
    path: str
    kind: str  # "csv" | "xlsx"
    header: list[str]
    delimiter: str = ","
    size: int = 0
    position: int = 0  # bytes consumed so far (approximate for XLSX), for progress

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

    def dicts(self) -> Iterator[tuple[int, dict[str, str]]]:
        """`rows()` as {header_key: stripped cell}; the first of two equal keys wins."""
        keys = [header_key(cell) for cell in self.header]
        for line, cells in self.rows():
            row: dict[str, str] = {}
            for key, value in zip(keys, cells, strict=False):
                if key and key not in row:
                    row[key] = value.strip()
            yield line, row


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
                raise TableRefused(
                    f"Line {lines_before + index + 1} is longer than 1 MiB (a field larger than an import "
                    "file ever holds): this is not a table of contacts or numbers."
                )
            carried = lengths[-1]
            lines_before += len(lengths) - 1
            if b"\x00" in block:
                raise TableRefused(
                    "This is not a CSV file: it contains binary data (NUL bytes at byte "
                    f"{offset + block.index(0)}). Upload a CSV in UTF-8 or an XLSX file."
                )
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                raise TableRefused(
                    f"The file is not UTF-8 text (invalid byte 0x{block[exc.start]:02x} at byte "
                    f"{offset + exc.start}). Save it as 'CSV UTF-8' or XLSX and upload it again."
                ) from None
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise TableRefused("The file is not UTF-8 text (it ends inside a character).") from None


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




Accept = Callable[[list[str]], bool]
_NO_NUMBER = ("No 'phone' column: the first row must be a header naming the number column "
              "(phone, number, mobile, msisdn, ...)")


def open_table(path: str | os.PathLike, *, accept: Accept = _has_number_column,
               refusal: str = _NO_NUMBER) -> Table:
    """The file's table, checked as a whole; raises TableRefused with the reason.

    `accept(header)` says whether a header row is usable (default: it names a number column);
    for a CSV it also picks the delimiter. `refusal` starts the message when it is not.
    """
    path = os.fspath(path)
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
    if size == 0 or (not head.strip() and size < 8):
        raise TableRefused("The file is empty.")
    if head.startswith(XLSX_MAGIC):
        return _open_xlsx(path, size, accept, refusal)
    if head.startswith(OLE_MAGIC):
        raise TableRefused("This is an old Excel (.xls) or other binary file: save it as XLSX or as CSV UTF-8.")
    _check_text(path)
    return _open_csv(path, size, accept, refusal)


@contextmanager
def open_upload(upload, **options) -> Iterator[Table]:
    """`open_table` for an uploaded file (Django's UploadedFile): from its temporary file, or
    from a copy when it is held in memory; the copy lives as long as the `with` block."""
    if hasattr(upload, "temporary_file_path"):
        yield open_table(upload.temporary_file_path(), **options)
        return
    suffix = os.path.splitext(getattr(upload, "name", "") or "")[1][:10]
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        upload.seek(0)
        for chunk in upload.chunks():
            tmp.write(chunk)
        tmp.flush()
        upload.seek(0)
        yield open_table(tmp.name, **options)


def _refused(refusal: str, header: list[str]) -> TableRefused:
    shown = ", ".join(repr(c.strip()) for c in header[:8] if c.strip()) or "nothing"
    return TableRefused(f"{refusal}. Found {shown}.")


def _open_csv(path: str, size: int, accept: Accept, refusal: str) -> Table:
    lines = _first_lines(path)
    if not lines:
        raise TableRefused("The file is empty.")
    header_line = lines[0]
    candidates = [d for d in DELIMITERS if accept(_parse_line(header_line, d))]
    if not candidates:
        found = max((_parse_line(header_line, d) for d in DELIMITERS), key=len)
        raise _refused(refusal + " (comma, semicolon or tab separated)", found)
    if len(candidates) == 1:
        delimiter = candidates[0]
    else:  # a header with one column: the data lines tell the delimiter
        sample = "".join(lines)
        delimiter = max(candidates, key=lambda d: (sample.count(d), d == ","))
    if len(lines) < 2:
        raise TableRefused("The file has a header row but no data rows.")
    return Table(path=path, kind="csv", header=_parse_line(header_line, delimiter), delimiter=delimiter,
                 size=size)


def _first_xlsx_rows(path: str) -> tuple[list[str] | None, bool]:
    """(the first non-blank row of the first sheet, whether a data row follows it)."""
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    with open(path, "rb") as fh:  # a file object: openpyxl would judge a path by its extension
        try:
            workbook = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
            raise TableRefused(f"This is not a readable XLSX file ({exc}).") from None
        try:
            if not workbook.worksheets:
                raise TableRefused("The XLSX file has no worksheet.")
            header = None
            for values in workbook.worksheets[0].iter_rows(values_only=True):
                cells = [_cell_text(v) for v in values]
                if not any(c.strip() for c in cells):
                    continue
                if header is not None:
                    return header, True
                header = cells
            return header, False
        finally:
            workbook.close()


def _open_xlsx(path: str, size: int, accept: Accept, refusal: str) -> Table:
    header, has_data = _first_xlsx_rows(path)
    if header is None:
        raise TableRefused("The file is empty.")
    if not accept(header):
        raise _refused(refusal + " in the first row of the first sheet", header)
    if not has_data:
        raise TableRefused("The file has a header row but no data rows.")
    return Table(path=path, kind="xlsx", header=header, size=size)
