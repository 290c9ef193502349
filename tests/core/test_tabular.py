"""The one tabular reader: CSV (delimiter sniffed, UTF-8 checked) and XLSX, streamed."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.tabular import NUMBER_COLUMNS, TableRefused, header_key, number_column, open_table, open_upload
from tests.contacts import conftest as contacts_fixtures

write_file, write_xlsx = contacts_fixtures.write_file, contacts_fixtures.write_xlsx  # the same file builders


def test_one_list_names_the_number_column_everywhere():
    assert {"phone", "number", "mobile", "msisdn", "to", "receiver"} <= set(NUMBER_COLUMNS)
    assert number_column(["Name", "Mobile Number", "Phone"]) == 2  # 'phone' is preferred
    assert number_column(["name", "To"]) == 1
    assert number_column(["name", "email"]) is None
    assert header_key(" First Name ") == "first_name" and header_key(None) == ""


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_is_sniffed_and_rows_stream_with_line_numbers(write_file, delimiter):
    path = write_file(f"\ufeffname{delimiter}number\nAnn{delimiter}+32470123456\n\nBob{delimiter}0032470000001\n")
    table = open_table(path)
    assert table.kind == "csv" and table.delimiter == delimiter
    assert table.header == ["name", "number"]
    assert list(table.rows()) == [(2, ["Ann", "+32470123456"]), (4, ["Bob", "0032470000001"])]
    assert table.position == table.size


def test_dicts_key_cells_by_header_and_strip_them(write_file):
    table = open_table(write_file("Number, First Name ,number\n +32470123456 , Ann ,x\n"))
    assert list(table.dicts()) == [(2, {"number": "+32470123456", "first_name": "Ann"})]


def test_xlsx_is_read_with_numbers_typed_as_numbers(write_xlsx):
    table = open_table(write_xlsx([["phone", "name"], [None, None], [32470123456, "Ann"]]))
    assert table.kind == "xlsx" and table.description == "XLSX"
    assert list(table.rows()) == [(3, ["32470123456", "Ann"])]


@pytest.mark.parametrize(
    "content, message",
    [(b"", "empty"), (b"name,email\nAnn,a@example.com\n", "No 'phone' column"), (b"phone\n", "no data rows"),
     ("phone\n+32470123456,Chlo\xe9\n".encode("latin-1"), "not UTF-8"), (b"phone\n1\x00\n", "binary data"),
     (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1xx", "old Excel"), (b"PK\x03\x04garbage", "not a readable XLSX")],
)
def test_unreadable_files_are_refused_with_a_reason(write_file, content, message):
    with pytest.raises(TableRefused, match=message):
        open_table(write_file(content))


def test_the_caller_says_which_header_is_usable(write_file):
    path = write_file("template_id;status\nabc;1\n")
    with pytest.raises(TableRefused, match="No template_id column"):
        open_table(path, accept=lambda header: "id" in header, refusal="No template_id column")
    table = open_table(path, accept=lambda header: "template_id" in header, refusal="unused")
    assert table.delimiter == ";" and list(table.dicts()) == [(2, {"template_id": "abc", "status": "1"})]


def test_an_upload_held_in_memory_is_read_from_a_copy():
    upload = SimpleUploadedFile("list.csv", b"msisdn\n32470123456\n")
    with open_upload(upload) as table:
        assert list(table.rows()) == [(2, ["32470123456"])]
    assert upload.read() == b"msisdn\n32470123456\n"  # left at the start for the caller


def test_blocks_cut_on_record_boundaries(write_file):
    lines = "".join(f'+3247000{i:04d},"a\nb"\n' for i in range(200))
    table = open_table(write_file("phone,note\n" + lines))
    blocks = list(table.blocks(block_bytes=256))
    assert len(blocks) > 5
    assert b"".join(block for block, _, _ in blocks).decode() == lines
    assert [first for _, first, _ in blocks][:2] == [2, 2 + blocks[0][0].count(b"\n")]
