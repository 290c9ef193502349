"""Turns raw import rows into contact records or rejections.

Plain Python (no Django models or settings): it runs in the import's worker processes, one
chunk of rows at a time, while the main process writes the previous chunks.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime

from core.phones import PhoneError, normalise_phone
from core.tabular import NUMBER_COLUMNS, header_key, number_column

csv.field_size_limit(1 << 20)

# Our field names, and the header spellings that mean them (compared after `header_key`).
FIELD_ALIASES = {
    "phone": NUMBER_COLUMNS,
    "identity": ("identity",),
    "email": ("email", "e_mail", "email_address", "mail"),
    "first_name": ("first_name", "firstname", "first", "given_name", "prénom", "prenom", "voornaam"),
    "last_name": ("last_name", "lastname", "last", "surname", "family_name", "nom", "achternaam"),
    "company": ("company",),
    "postal_code": ("postal_code", "postcode", "zip", "zip_code"),
    "birth_date": ("birth_date", "birthdate", "date_of_birth", "dob"),
    "gender": ("gender",),
    "tags": ("tags", "tag"),
}
ALIAS_TO_FIELD = {alias: field for field, aliases in FIELD_ALIASES.items() for alias in aliases}
MAX_LENGTHS = {
    "identity": 128,
    "email": 254,
    "first_name": 150,
    "last_name": 150,
    "company": 200,
    "postal_code": 32,
}
TAG_MAX_LENGTH = 100
GENDERS = {"male": "male", "m": "male", "female": "female", "f": "female"}

# The same rule as Django's EmailValidator for the common case, without its import cost.
_EMAIL_RE = re.compile(
    r"^[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+)*"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}|\[[0-9A-Fa-f:.]+\])$"
)
_to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def column_spec(header: list[str]) -> dict:
    """Maps a header row to {field: index} and [(attribute, index)]; phone may be absent.

    The phone is the preferred number column (`core.tabular.number_column`); other columns
    that could name a number are attributes.
    """
    phone = number_column(header)
    fields: dict[str, int] = {} if phone is None else {"phone": phone}
    attributes: list[tuple[str, int]] = []
    seen: set[str] = set() if phone is None else {header_key(header[phone])}
    for index, cell in enumerate(header):
        key = header_key(cell)
        if not key or key in seen:
            continue
        seen.add(key)
        field = ALIAS_TO_FIELD.get(key)
        if field and field != "phone" and field not in fields:
            fields[field] = index
        else:
            attributes.append((key, index))
    return {"fields": fields, "attributes": attributes}


def valid_email(value: str) -> bool:
    return len(value) <= 254 and _EMAIL_RE.match(value) is not None


def parse_birth_date(value: str) -> str:
    value = value.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            parsed = datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        if parsed > date.today() or parsed.year < 1900:
            raise ValueError(f"birth_date {value!r} is out of range")
        return parsed.isoformat()
    raise ValueError(f"invalid birth_date {value!r} (use yyyy-mm-dd)")


def row_text(cells: list[str], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(cells)
    return out.getvalue()


_TEXT_FIELDS = ("identity", "first_name", "last_name", "company", "postal_code")
_SHORTEST_MAX = min(MAX_LENGTHS[name] for name in _TEXT_FIELDS)  # cells no longer need no check


def _indexes(spec: dict) -> tuple:
    """Column indexes in a fixed order (cached in the spec): phone, email, texts..., others."""
    cached = spec.get("_indexes")
    if cached is None:
        fields = spec["fields"]
        names = ("phone", "email", *_TEXT_FIELDS, "birth_date", "gender", "tags")
        cached = spec["_indexes"] = tuple(fields.get(name, -1) for name in names)
    return cached


def parse_row(cells: list[str], spec: dict) -> tuple[tuple, tuple[str, ...]]:
    """One row -> (record, tags); raises ValueError with the reason.

    The record is ready to bind (see RECORD_FIELDS): the attributes as JSON text.
    """
    width = len(cells)
    values = [cells[i].strip() if 0 <= i < width else "" for i in _indexes(spec)]
    try:
        phone, country = normalise_phone(values[0], spec.get("default_country") or None)
    except PhoneError as exc:
        raise ValueError(str(exc)) from None
    email = values[1]
    if email and not valid_email(email):
        raise ValueError(f"invalid email {email!r}")
    identity, first_name, last_name, company, postal_code = values[2:7]
    if max(len(identity), len(first_name), len(last_name), len(company), len(postal_code)) > _SHORTEST_MAX:
        for field, value in zip(_TEXT_FIELDS, values[2:7], strict=True):
            if len(value) > MAX_LENGTHS[field]:
                raise ValueError(f"{field} longer than {MAX_LENGTHS[field]} characters")
    if identity and any(ch.isspace() for ch in identity):
        raise ValueError("identity contains spaces")
    birth_date, gender, raw_tags = values[7:10]
    birth_date = parse_birth_date(birth_date) if birth_date else None
    if gender:
        gender = GENDERS.get(gender.lower())
        if gender is None:
            raise ValueError(f"invalid gender {values[8]!r} (male or female)")
    tags: tuple[str, ...] = ()
    if raw_tags:
        if ";" in raw_tags:
            tags = tuple(dict.fromkeys(t.strip() for t in raw_tags.split(";") if t.strip()))
        else:
            tags = (raw_tags,)  # one tag, stripped with the cell
        if len(raw_tags) > TAG_MAX_LENGTH and any(len(t) > TAG_MAX_LENGTH for t in tags):
            raise ValueError(f"tag longer than {TAG_MAX_LENGTH} characters")
    # BICS requires an identity without spaces: the number when the file gives none.
    record = (
        phone, country, identity or phone, email, first_name, last_name, company, postal_code,
        birth_date, gender or "", _attributes_json(cells, width, spec),
    )  # fmt: skip
    return record, tags


RECORD_FIELDS = (
    "phone", "country", "identity", "email", "first_name", "last_name", "company",
    "postal_code", "birth_date", "gender", "attributes",
)  # fmt: skip


def merge_records(old: tuple, new: tuple) -> tuple:
    """The same number twice: later non-empty values win, attributes merge."""
    merged = [n if n not in ("", None) else o for o, n in zip(old[:10], new[:10], strict=True)]
    if new[10] == "{}" or new[10] == old[10]:
        return (*merged, old[10])
    if old[10] == "{}":
        return (*merged, new[10])
    return (*merged, _to_json({**json.loads(old[10]), **json.loads(new[10])}))


def parse_block(block: bytes, first_line: int, spec: dict) -> tuple[list, list, int, int]:
    """Parses a block of CSV bytes that starts and ends on a record boundary.

    `first_line` is the file's line number of the block's first line. Returns
    (records, rejections, valid_rows, rows) like `parse_chunk`, plus the rows read.
    """
    text = io.StringIO(block.decode("utf-8"), newline="")  # "\r" line ends split too
    reader = csv.reader(text, delimiter=spec.get("delimiter", ","))
    offset = first_line - 1
    rows = [(offset + reader.line_num, cells) for cells in reader if any(cells)]
    return (*parse_chunk(rows, spec), len(rows))


def parse_rows(rows: list[tuple[int, list[str]]], spec: dict) -> tuple[list, list, int, int]:
    """`parse_chunk` plus the number of rows, like `parse_block`."""
    return (*parse_chunk(rows, spec), len(rows))


def parse_chunk(rows: list[tuple[int, list[str]]], spec: dict) -> tuple[list, list, int]:
    """Parses one chunk. Returns ((records, sorted numbers by tag), rejections, valid_rows).

    Records are unique by phone within the chunk (duplicates merged in file order, later
    values winning, tags adding up), ready to bind; rejections are (line, reason, raw row).
    """
    by_phone: dict[str, tuple] = {}
    tags: dict[str, tuple[str, ...]] = {}
    rejections = []
    delimiter = spec.get("delimiter", ",")
    for line, cells in rows:
        try:
            record, row_tags = parse_row(cells, spec)
        except ValueError as exc:
            rejections.append((line, str(exc)[:255], row_text(cells, delimiter)))
            continue
        phone = record[0]
        previous = by_phone.get(phone)
        if previous is None:
            by_phone[phone] = record
            if row_tags:
                tags[phone] = row_tags
        else:
            by_phone[phone] = merge_records(previous, record)
            if row_tags:
                tags[phone] = tuple(dict.fromkeys(tags.get(phone, ()) + row_tags))
    # Sorted by number: the writer's inserts then walk the phone index in order, and the
    # numbers of a tag, sorted too, are cut per transaction by range (`bisect`).
    records = []
    phones_by_tag: dict[str, list[str]] = {}
    for phone in sorted(by_phone):
        records.append(by_phone[phone])
        for name in tags.get(phone, ()):
            phones_by_tag.setdefault(name, []).append(phone)
    return (records, phones_by_tag), rejections, len(rows) - len(rejections)


_json_texts: dict[tuple, str] = {}  # attribute cells -> JSON text: files repeat a few values (a city, a plan)


def _attributes_json(cells: list[str], width: int, spec: dict) -> str:
    """The non-empty attribute cells of a row as a JSON object (text)."""
    attributes = spec["attributes"]
    if not attributes:
        return "{}"
    names = spec.get("_attribute_names")
    if names is None:
        names = spec["_attribute_names"] = tuple(name for name, _ in attributes)
    values = tuple(cells[index].strip() if index < width else "" for _, index in attributes)
    key = (names, values)
    text = _json_texts.get(key)
    if text is None:
        text = _to_json({name: value for name, value in zip(names, values, strict=True) if value})
        if len(_json_texts) < 4096:
            _json_texts[key] = text
    return text
