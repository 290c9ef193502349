"""Contacts (subscribers), identifiers, tags, segments, imports (26).

Contact phone numbers travel with '+' (the Create Contact and Edit Contact samples), as we store them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bics.client import BicsClient, build, compact, first_object, upload

__all__ = [
    "Contact",
    "Identifier",
    "Import",
    "Segment",
    "Tag",
    "add_identifier",
    "create_contact",
    "create_segment",
    "create_tag",
    "delete_contact",
    "delete_identifier",
    "delete_import",
    "delete_segment",
    "delete_tag",
    "get_contact",
    "get_identifier",
    "get_import",
    "get_segment",
    "get_tag",
    "import_contacts",
    "list_all_identifiers",
    "list_contacts",
    "list_identifiers",
    "list_imports",
    "list_segment_subscribers",
    "list_segments",
    "list_tags",
    "update_contact",
    "update_identifier",
    "update_segment",
    "update_tag",
]


@dataclass
class Contact:
    id: str | None = None
    identity: str | None = None
    phone: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    postal_code: str | None = None
    birth_date: str | None = None
    gender: str | None = None
    attributes: Any = None
    tags: Any = None
    created_at: str | None = None
    updated_at: str | None = None
    raw: dict = field(default_factory=dict, repr=False)  # personal data: never log


@dataclass
class Identifier:
    id: str | None = None
    contact_id: str | None = None
    type: str | None = None
    value: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class Tag:
    id: str | None = None
    name: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class Segment:
    id: str | None = None
    name: str | None = None
    positive_tags: Any = None
    positive_tags_operator: str | None = None
    negative_tags: Any = None
    negative_tags_operator: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class Import:
    id: str | None = None
    filename: str | None = None
    total: Any = None
    imported: Any = None
    failed: Any = None
    status: Any = None
    message: str = ""
    created_at: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


# ------------------------------------------------------------------ contacts
def list_contacts(client: BicsClient) -> Iterator[Contact]:
    for item in client.iterate("contacts.contacts.list"):
        yield build(Contact, item)


def create_contact(client: BicsClient, *, identity: str, phone: str,  # noqa: PLR0913
                   email: str | None = None, first_name: str | None = None,
                   last_name: str | None = None, company: str | None = None,
                   postal_code: str | None = None, birth_date: dt.date | str | None = None,
                   gender: str | None = None, attributes: dict | None = None,
                   tags: list[str] | None = None) -> Contact:
    if isinstance(birth_date, dt.date):
        birth_date = birth_date.isoformat()
    body = compact(identity=identity, phone=phone, email=email, first_name=first_name,
                   last_name=last_name, company=company, postal_code=postal_code,
                   birth_date=birth_date, gender=gender, attributes=attributes,
                   tags=None if tags is None else list(tags))
    resp = client.call("contacts.contacts.create", json=body)
    return build(Contact, first_object(resp.data) or body)


def get_contact(client: BicsClient, *, id: str) -> Contact:  # noqa: A002
    return build(Contact, first_object(
        client.call("contacts.contacts.get", path_params={"id": id}).data))


def update_contact(client: BicsClient, *, id: str, phone: str, email: str | None = None,  # noqa: A002, PLR0913
                   first_name: str | None = None, last_name: str | None = None,
                   company: str | None = None, attributes: dict | None = None,
                   tags: list[str] | None = None) -> Contact:
    """identity, birth_date, gender and postal_code are not editable (Edit Contact)."""
    body = compact(phone=phone, email=email, first_name=first_name, last_name=last_name,
                   company=company, attributes=attributes,
                   tags=None if tags is None else list(tags))
    resp = client.call("contacts.contacts.update", path_params={"id": id}, json=body)
    return build(Contact, first_object(resp.data))


def delete_contact(client: BicsClient, *, id: str) -> None:  # noqa: A002
    client.call("contacts.contacts.delete", path_params={"id": id})


# ------------------------------------------------------------------ identifiers
def list_identifiers(client: BicsClient, *, contact_id: str) -> Iterator[Identifier]:
    for item in client.iterate("contacts.identifiers.list",
                               path_params={"contact_id": contact_id}):
        yield build(Identifier, item)


def add_identifier(client: BicsClient, *, contact_id: str, type: str,  # noqa: A002
                   value: str) -> Identifier:
    resp = client.call("contacts.identifiers.create", path_params={"contact_id": contact_id},
                       json={"type": type, "value": value})
    return build(Identifier, first_object(resp.data) or {"type": type, "value": value})


def get_identifier(client: BicsClient, *, contact_id: str, identifier_id: str) -> Identifier:
    resp = client.call("contacts.identifiers.get",
                       path_params={"contact_id": contact_id, "identifier_id": identifier_id})
    return build(Identifier, first_object(resp.data))


def update_identifier(client: BicsClient, *, contact_id: str, identifier_id: str,
                      type: str, value: str) -> Identifier:  # noqa: A002
    resp = client.call("contacts.identifiers.update",
                       path_params={"contact_id": contact_id, "identifier_id": identifier_id},
                       json={"type": type, "value": value})
    return build(Identifier, first_object(resp.data))


def delete_identifier(client: BicsClient, *, contact_id: str, identifier_id: str) -> None:
    client.call("contacts.identifiers.delete",
                path_params={"contact_id": contact_id, "identifier_id": identifier_id})


def list_all_identifiers(client: BicsClient) -> Iterator[Identifier]:
    for item in client.iterate("contacts.identifiers.list_all"):
        yield build(Identifier, item)


# ------------------------------------------------------------------ tags
def list_tags(client: BicsClient) -> Iterator[Tag]:
    for item in client.iterate("contacts.tags.list"):
        yield build(Tag, item)


def create_tag(client: BicsClient, *, name: str) -> Tag:
    resp = client.call("contacts.tags.create", json={"name": name})
    return build(Tag, first_object(resp.data) or {"name": name})


def get_tag(client: BicsClient, *, id: str) -> Tag:  # noqa: A002
    return build(Tag, first_object(client.call("contacts.tags.get", path_params={"id": id}).data))


def update_tag(client: BicsClient, *, id: str, name: str) -> Tag:  # noqa: A002
    resp = client.call("contacts.tags.update", path_params={"id": id}, json={"name": name})
    return build(Tag, first_object(resp.data))


def delete_tag(client: BicsClient, *, id: str) -> None:  # noqa: A002
    client.call("contacts.tags.delete", path_params={"id": id})


# ------------------------------------------------------------------ segments
def list_segments(client: BicsClient) -> Iterator[Segment]:
    """The documented answer carries ``data`` as an object (Get All Segments): both handled."""
    for item in client.iterate("contacts.segments.list"):
        yield build(Segment, item)


def create_segment(client: BicsClient, *, name: str) -> Segment:
    resp = client.call("contacts.segments.create", json={"name": name})
    return build(Segment, first_object(resp.data) or {"name": name})


def get_segment(client: BicsClient, *, id: str) -> Segment:  # noqa: A002
    return build(Segment, first_object(
        client.call("contacts.segments.get", path_params={"id": id}).data))


def update_segment(client: BicsClient, *, id: str, name: str,  # noqa: A002, PLR0913
                   positive_tags: list[str], negative_tags: list[str],
                   positive_tags_operator: str = "any",
                   negative_tags_operator: str = "any") -> Segment:
    body = {"name": name, "positive_tags": list(positive_tags),
            "positive_tags_operator": positive_tags_operator,
            "negative_tags": list(negative_tags),
            "negative_tags_operator": negative_tags_operator}
    resp = client.call("contacts.segments.update", path_params={"id": id}, json=body)
    return build(Segment, first_object(resp.data))


def delete_segment(client: BicsClient, *, id: str) -> None:  # noqa: A002
    client.call("contacts.segments.delete", path_params={"id": id})


def list_segment_subscribers(client: BicsClient, *, id: str) -> Iterator[Contact]:  # noqa: A002
    for item in client.iterate("contacts.segments.subscribers", path_params={"id": id}):
        yield build(Contact, item)


# ------------------------------------------------------------------ imports
def list_imports(client: BicsClient) -> Iterator[Import]:
    for item in client.iterate("contacts.imports.list"):
        yield build(Import, item)


def import_contacts(client: BicsClient, *, file: Any, filename: str | None = None) -> Import:
    """Upload a contacts file (txt/csv/xls/xlsx, at most 5 MB). Not retried once sent."""
    resp = client.call("contacts.imports.create", files={"file": upload(file, filename)})
    result = build(Import, first_object(resp.data))
    result.message = resp.message
    return result


def get_import(client: BicsClient, *, id: str) -> Import:  # noqa: A002
    return build(Import, first_object(
        client.call("contacts.imports.get", path_params={"id": id}).data))


def delete_import(client: BicsClient, *, id: str) -> None:  # noqa: A002
    client.call("contacts.imports.delete", path_params={"id": id})
