import pytest
from django.db import connection

from contacts.models import Contact, ContactImport, ContactImportRejection, ImportState, Tag
from contacts.services import imports
from contacts.services.imports import ImportRefused, contacts_import_file
from core.models import SyncState
from tests.concurrency import on_postgresql, run_on_postgresql

pytestmark = pytest.mark.django_db

HEADER = "phone,first_name,last_name,email,tags,city\n"


def run(path, **kwargs):
    kwargs.setdefault("workers", 0)
    return contacts_import_file(path=path, **kwargs)


def test_valid_rows_are_imported_with_fields_tags_and_attributes(write_file):
    path = write_file(
        HEADER + "+32 470 12 34 56,Anna,Peeters,anna@example.com,vip; newsletter ,Gent\n"
        "+33612345678,Hugo,,,,\n"
    )
    contact_import, result = run(path)
    assert (result.rows_read, result.imported, result.updated, result.rejected) == (2, 2, 0, 0)
    anna = Contact.objects.get(phone="+32470123456")
    assert (anna.first_name, anna.last_name, anna.email, anna.country) == ("Anna", "Peeters", "anna@example.com", "BE")
    assert anna.attributes == {"city": "Gent"}
    assert sorted(anna.tags.values_list("name", flat=True)) == ["newsletter", "vip"]
    assert anna.source_import == contact_import
    assert anna.sync_state == SyncState.NEVER
    assert contact_import.state == ImportState.DONE
    assert (contact_import.rows_imported, contact_import.rows_rejected) == (2, 0)


def test_header_is_matched_case_insensitively_and_other_columns_become_attributes(write_file):
    path = write_file(" Phone ,First Name,E-mail,Loyalty Level\n+32470123456,Anna,a@example.com,Gold\n")
    run(path)
    contact = Contact.objects.get()
    assert (contact.first_name, contact.email) == ("Anna", "a@example.com")
    assert contact.attributes == {"loyalty_level": "Gold"}


def test_utf8_bom_is_accepted(write_file):
    path = write_file("\ufeffphone,first_name\n+32470123456,Chloé\n")
    _, result = run(path)
    assert result.imported == 1
    assert Contact.objects.get().first_name == "Chloé"


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_delimiter_is_sniffed(write_file, delimiter):
    rows = [["first_name", "phone", "email"], ["Anna, Jr", "+32470123456", "a@example.com"]]
    text = "\n".join(delimiter.join(f'"{c}"' if "," in c else c for c in row) for row in rows) + "\n"
    _, result = run(write_file(text))
    assert result.imported == 1
    contact = Contact.objects.get()
    assert (contact.first_name, contact.email) == ("Anna, Jr", "a@example.com")


def test_single_column_file_is_read(write_file):
    _, result = run(write_file("phone\n+32470123456\n+33612345678\n"))
    assert result.imported == 2


def test_xlsx_is_imported_including_numbers_typed_as_numbers(write_xlsx):
    path = write_xlsx(
        [["Phone", "First_name", "Tags"], ["+32 470 12 34 56", "Anna", "vip"], [33612345678, "Hugo", None]]
    )
    _, result = run(path)
    assert (result.imported, result.rejected) == (2, 0)
    assert Contact.objects.filter(phone="+33612345678", first_name="Hugo").exists()
    assert result.description == "XLSX"


def test_invalid_number_or_email_rejects_the_row_with_line_and_reason(write_file):
    path = write_file(
        HEADER + "+32470123456,Anna,,,,\n"
        "+32 12,Bad,,,,\n"
        "\n"
        "+33612345678,Hugo,,not-an-email,,\n"
        "+31612345678,Noah,,,,\n"
    )
    contact_import, result = run(path)
    assert (result.imported, result.rejected) == (2, 2)
    assert [line for line, _ in result.rejections] == [3, 5]
    assert "invalid number" in result.rejections[0][1]
    assert "invalid email" in result.rejections[1][1]
    stored = list(ContactImportRejection.objects.filter(contact_import=contact_import).values_list("line", "raw"))
    assert stored == [(3, "+32 12,Bad,,,,"), (5, "+33612345678,Hugo,,not-an-email,,")]
    assert set(Contact.objects.values_list("phone", flat=True)) == {"+32470123456", "+31612345678"}


def test_number_without_country_code_is_rejected_unless_default_country(write_file):
    path = write_file("phone\n0470 12 34 56\n")
    _, result = run(path)
    assert result.rejected == 1 and "no country code" in result.rejections[0][1]
    _, result = run(path, default_country="BE")
    assert result.imported == 1
    assert Contact.objects.get().phone == "+32470123456"


def test_a_wrong_country_code_is_named_as_such_not_as_a_missing_one(write_file):
    path = write_file("phone\n+999 1234 5678\n0470 12 34 56\n")
    _, result = run(path, default_country="BE")
    assert result.imported == 1
    assert result.rejections == [(2, "invalid number '+999 1234 5678': invalid country code")]


def test_any_name_of_the_number_column_is_read(write_file):
    _, result = run(write_file("Name;MSISDN\nAnn;32470123456\n"))
    assert result.imported == 1
    assert Contact.objects.get().phone == "+32470123456"


def test_formula_looking_cells_are_data(write_file):
    path = write_file(HEADER + '+32470123456,-Bob,"=HYPERLINK(""x"")",,@home,"+cmd|calc"\n')
    _, result = run(path)
    assert result.imported == 1
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("-Bob", '=HYPERLINK("x")')
    assert contact.attributes == {"city": "+cmd|calc"}
    assert list(contact.tags.values_list("name", flat=True)) == ["@home"]


def test_same_number_twice_in_a_file_is_one_contact_and_one_duplicate(write_file):
    path = write_file(
        HEADER + "+32470123456,Anna,,anna@example.com,vip,\n"
        "+32 470 12 34 56,,Peeters,,gold,Gent\n"
    )
    contact_import, result = run(path)
    assert (result.imported, result.updated, result.duplicates, result.rejected) == (1, 0, 1, 0)
    assert (contact_import.rows_updated, contact_import.rows_duplicate) == (0, 1)
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, contact.email) == ("Anna", "Peeters", "anna@example.com")
    assert contact.attributes == {"city": "Gent"}
    assert sorted(contact.tags.values_list("name", flat=True)) == ["gold", "vip"]


def test_same_number_repeated_merges_attributes_later_values_winning(write_file):
    path = write_file(
        "phone,city,plan\n"
        "+32470123456,Gent,\n"
        "+32470123456,,gold\n"
        "+32470123456,Liège,\n"
        "+32470123457,,\n"
    )
    _, result = run(path)
    assert (result.imported, result.duplicates) == (2, 2)
    assert Contact.objects.get(phone="+32470123456").attributes == {"city": "Liège", "plan": "gold"}
    assert Contact.objects.get(phone="+32470123457").attributes == {}


def test_same_number_in_different_chunks_is_a_duplicate_and_an_existing_one_an_update(write_file):
    Contact.objects.create(phone="+33612345679", first_name="Old")
    path = write_file(HEADER + "+32470123456,Anna,,,,\n+33612345678,Hugo,,,,\n+32470123456,Anna,Peeters,,,\n"
                      "+33612345679,New,,,,\n")
    contact_import = ContactImport.objects.create(original_name="x")
    result = imports.contacts_import(contact_import=contact_import, path=path, workers=0, block_bytes=1)
    assert (result.imported, result.updated, result.duplicates) == (2, 1, 1)
    assert Contact.objects.get(phone="+32470123456").last_name == "Peeters"


def test_a_chunk_is_written_in_several_short_transactions_with_the_same_result(write_file, monkeypatch):
    from django.test.utils import CaptureQueriesContext

    from contacts.services import import_writer

    monkeypatch.setattr(import_writer, "TX_ROWS", 3)
    Contact.objects.create(phone="+32470000003", first_name="Old")
    good = "".join(f"+3247000000{n},P{n},,,{'vip' if n % 2 else ''},\n" for n in range(8))
    path = write_file(HEADER + good + "bad 1,,,,,\nbad 2,,,,,\n+32470000001,Again,,,gold,\n"
                      + "".join(f"bad {n},,,,,\n" for n in range(3, 8)))
    contact_import = ContactImport.objects.create(original_name="x", tag="spring")
    with CaptureQueriesContext(connection) as queries:
        result = imports.contacts_import(contact_import=contact_import, path=path, workers=0)
    # One chunk of 8 contacts and 7 rejections: 3 of each per transaction, one upsert each.
    sqls = [q["sql"] for q in queries.captured_queries]
    assert sum('INSERT INTO "contacts_contact" (' in sql for sql in sqls) == 3
    assert sum('INSERT INTO "contacts_contactimportrejection"' in sql for sql in sqls) == 3
    assert (result.rows_read, result.imported, result.updated, result.duplicates, result.rejected) == (16, 7, 1, 1, 7)
    assert ContactImportRejection.objects.filter(contact_import=contact_import).count() == 7
    assert Contact.objects.get(phone="+32470000001").first_name == "Again"
    assert sorted(Contact.objects.get(phone="+32470000001").tags.values_list("name", flat=True)) == [
        "gold", "spring", "vip"]
    assert Contact.objects.filter(tags__name="spring").count() == 8
    assert Contact.objects.filter(tags__name="vip").count() == 4

def test_a_transaction_of_more_contacts_than_a_statement_holds_writes_them_all(write_file, monkeypatch):
    """SQLite: a transaction's contacts go in multi-row statements of STATEMENT_ROWS (its
    parameter limit); the last statement of a transaction is shorter."""
    from django.test.utils import CaptureQueriesContext

    from contacts.services import import_writer

    monkeypatch.setattr(import_writer, "TX_ROWS", 5)
    monkeypatch.setattr(import_writer, "STATEMENT_ROWS", 2)
    Contact.objects.create(phone="+32470000004", first_name="Old", last_name="Kept")
    rows = "".join(f"+3247000000{n},P{n},,,{'vip' if n % 3 == 0 else ''},\n" for n in range(9))
    path = write_file(HEADER + rows + "+32470000002,Again,,,,\n")
    with CaptureQueriesContext(connection) as queries:
        _, result = run(path, tag="spring")
    upserts = sum('INSERT INTO "contacts_contact" (' in q["sql"] for q in queries.captured_queries)
    # 9 distinct numbers: transactions of 5 and 4; SQLite: statements of 2, 2, 1 and 2, 2.
    assert upserts == (2 if on_postgresql() else 5)
    assert (result.rows_read, result.imported, result.updated, result.duplicates) == (10, 8, 1, 1)
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == sorted(
        ["Again", "P0", "P1", "P3", "P4", "P5", "P6", "P7", "P8"])
    assert Contact.objects.get(phone="+32470000004").last_name == "Kept"
    assert Contact.objects.filter(tags__name="spring").count() == 9
    assert set(Contact.objects.filter(tags__name="vip").values_list("phone", flat=True)) == {
        "+32470000000", "+32470000003", "+32470000006"}


@pytest.mark.django_db(transaction=True)  # real transactions: a turn is taken at BEGIN
def test_the_import_takes_turns_with_the_webhook_receiver(write_file, monkeypatch, tmp_path):
    """Each write transaction holds the receiver's lock file (exclusive) and gives it back
    before the next: a DLR arriving during a large import waits for one transaction at most."""
    import functools

    from contacts.services import import_writer
    from core.batches.turns import writer_turns
    from tests.concurrency import lock_file_free

    lock_path = str(tmp_path / "db.sqlite3-append.lock")
    monkeypatch.setattr(imports, "writer_turns", functools.partial(writer_turns, path=lock_path))
    monkeypatch.setattr(import_writer, "TX_ROWS", 2)
    seen = []

    def inner(execute, sql, params, many, context):  # runs inside the turn's wrapper
        if sql.startswith('INSERT INTO "contacts_contact" ('):
            seen.append(lock_file_free(lock_path))
        return execute(sql, params, many, context)

    path = write_file(HEADER + "".join(f"+3247000000{n},P{n},,,,\n" for n in range(5)))
    with connection.execute_wrapper(inner):
        _, result = run(path)
    assert result.imported == 5
    if connection.vendor == "sqlite":
        assert seen == [False, False, False]  # three transactions, each holding the turn
    assert lock_file_free(lock_path)


def test_reimport_updates_contacts_and_keeps_values_missing_from_the_file(write_file):
    run(write_file(HEADER + "+32470123456,Anna,Peeters,anna@example.com,vip,Gent\n"))
    _, result = run(write_file("phone,first_name,zip\n+32470123456,Annie,9000\n", name="2.csv"), tag="spring")
    assert (result.imported, result.updated) == (0, 1)
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, contact.email) == ("Annie", "Peeters", "anna@example.com")
    assert contact.postal_code == "9000"
    assert contact.attributes == {"city": "Gent"}
    assert sorted(contact.tags.values_list("name", flat=True)) == ["spring", "vip"]


def test_reimport_marks_synced_contacts_dirty_only_when_something_changed(write_file):
    path = write_file(HEADER + "+32470123456,Anna,,,vip,\n")
    run(path)
    Contact.objects.update(sync_state=SyncState.SYNCED, bics_id="c1")
    run(path)
    assert Contact.objects.get().sync_state == SyncState.SYNCED
    run(write_file(HEADER + "+32470123456,Anna,Peeters,,,\n", name="2.csv"))
    assert Contact.objects.get().sync_state == SyncState.DIRTY
    Contact.objects.update(sync_state=SyncState.SYNCED)
    run(write_file("phone,tags\n+32470123456,new tag\n", name="3.csv"))
    assert Contact.objects.get().sync_state == SyncState.DIRTY


def test_tag_option_tags_every_imported_contact(write_file):
    run(write_file("phone\n+32470123456\n+33612345678\n"), tag="fair 2026")
    tag = Tag.objects.get(name="fair 2026")
    assert tag.contacts.count() == 2


BAD_FILES = {
    "latin-1": ("phone,first_name\n+32470123456,Chlo\xe9\n".encode("latin-1"), "not UTF-8"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary data"),
    "nul bytes": (b"phone\n+32470123456\x00\n", "binary data"),
    "no phone column": (b"name,email\nAnna,a@example.com\n", "No 'phone' column"),
    "prose": (b"Dear team, please find the numbers attached.\n", "No 'phone' column"),
    "empty": (b"", "empty"),
    "blank lines": (b"\n\n  \n", "empty"),
    "header only": (b"phone,first_name\n", "no data rows"),
    "old excel": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "XLSX"),
    "broken xlsx": (b"PK\x03\x04garbage", "not a readable XLSX"),
    "a line over 1 MiB": (b"phone,note\n+32470123456,ok\n+32470123457," + b"x" * (1 << 20) + b"\n", "Line 3 is longer than 1 MiB"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_unreadable_file_is_refused_entirely_and_nothing_is_written(write_file, name):
    content, message = BAD_FILES[name]
    # A good row first: a refusal must not leave half an import behind.
    with pytest.raises(ImportRefused, match=message):
        run(write_file(content))
    assert Contact.objects.count() == 0
    assert ContactImport.objects.count() == 0
    assert Tag.objects.count() == 0


def test_latin1_after_many_good_rows_is_still_refused_before_writing(write_file):
    good = "".join(f"+3247{n:07d},x\n" for n in range(3000))
    content = ("phone,name\n" + good).encode() + "+32470000001,Chlo\xe9\n".encode("latin-1")
    with pytest.raises(ImportRefused, match="byte"):
        run(write_file(content))
    assert Contact.objects.count() == 0


def test_parallel_workers_give_the_same_result_as_in_process(write_file):
    lines = [HEADER]
    for n in range(300):
        phone = f"+3247{n % 250:07d}" if n % 10 else "+32 12"
        lines.append(f"{phone},First{n},Last,,t{n % 3},City{n % 5}\n")
    path = write_file("".join(lines))
    contact_import = ContactImport.objects.create(original_name="parallel")
    result = imports.contacts_import(contact_import=contact_import, path=path, workers=2, block_bytes=300)
    assert (result.rows_read, result.rejected) == (300, 30)
    assert result.imported == Contact.objects.count() == 225
    assert (result.updated, result.duplicates) == (0, 300 - 30 - 225)
    assert [line for line, _ in result.rejections] == sorted(line for line, _ in result.rejections)
    assert Contact.objects.get(phone="+32470000011").first_name == "First261"


def test_progress_is_written_while_the_import_runs(write_file, monkeypatch):
    path = write_file("phone\n" + "".join(f"+3247{n:07d}\n" for n in range(50)) + "bad\n")
    contact_import = ContactImport.objects.create(original_name="progress")
    seen = []
    original = imports.ImportWriter.flush_progress

    def spy(self, force=False):
        original(self, force=True)
        item = ContactImport.objects.get(pk=contact_import.pk)
        seen.append((item.state, item.rows_read, item.rows_imported, item.bytes_read))

    monkeypatch.setattr(imports.ImportWriter, "flush_progress", spy)
    imports.contacts_import(contact_import=contact_import, path=path, workers=0, block_bytes=130)
    running = [s for s in seen if s[0] == ImportState.RUNNING]
    assert [s[1] for s in running][:5] == [10, 20, 30, 40, 50]
    assert [s[2] for s in running][:5] == [10, 20, 30, 40, 50]
    contact_import.refresh_from_db()
    assert (contact_import.state, contact_import.percent, contact_import.rows_rejected) == ("done", 100, 1)
    assert contact_import.finished_at is not None


def test_a_failing_import_is_marked_failed(write_file, monkeypatch):
    path = write_file("phone\n+32470123456\n")
    contact_import = ContactImport.objects.create(original_name="boom")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports.ImportWriter, "write", boom)
    with pytest.raises(RuntimeError):
        imports.contacts_import(contact_import=contact_import, path=path, workers=0)
    contact_import.refresh_from_db()
    assert contact_import.state == ImportState.FAILED
    assert "disk full" in contact_import.error


def test_quoted_newlines_and_crlf_keep_line_numbers_across_blocks(write_file):
    text = (
        'phone,first_name,note\r\n'
        '+32470000001,Anna,"two\r\nlines"\r\n'
        '+32 12,Bad,"a ""quoted"" word"\r\n'
        '+32470000002,"Multi\nline, name",\r\n'
        'bad again,,\r\n'
    )
    path = write_file(text)
    for block_bytes in (1, 7, 25, 1 << 20):
        contact_import = ContactImport.objects.create(original_name="q")
        result = imports.contacts_import(contact_import=contact_import, path=path, workers=0, block_bytes=block_bytes)
        assert [line for line, _ in result.rejections] == [4, 7], block_bytes
        assert result.rows_read == 4
    assert Contact.objects.get(phone="+32470000002").first_name == "Multi\nline, name"
    assert Contact.objects.get(phone="+32470000001").attributes == {"note": "two\r\nlines"}


def test_xlsx_rows_go_through_the_worker_pool_in_chunks(write_xlsx):
    rows = [["phone", "first_name"]] + [[f"+3247{n:07d}", f"N{n}"] for n in range(40)] + [["bad", "x"]]
    path = write_xlsx(rows)
    contact_import = ContactImport.objects.create(original_name="x")
    result = imports.contacts_import(contact_import=contact_import, path=path, workers=2, chunk_rows=7)
    assert (result.imported, result.rejected, result.rejections[0][0]) == (40, 1, 42)


def test_french_and_dutch_headers_and_accented_attribute_names(write_file):
    run(write_file("Téléphone;Prénom;Nom;Ville natale\n+32470123456;Zoé;Dubois;Liège\n"))
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("Zoé", "Dubois")
    assert contact.attributes == {"ville_natale": "Liège"}


def test_identity_is_the_number_unless_the_file_gives_one(write_file):
    run(write_file("phone,identity\n+32470123456,\n+33612345678,Fayek\n"))
    assert Contact.objects.get(phone="+32470123456").identity == "+32470123456"
    assert Contact.objects.get(phone="+33612345678").identity == "Fayek"
    Contact.objects.filter(phone="+33612345678").update(sync_state=SyncState.SYNCED)
    run(write_file("phone\n+33612345678\n", name="2.csv"))  # no identity column: keep Fayek
    contact = Contact.objects.get(phone="+33612345678")
    assert (contact.identity, contact.sync_state) == ("Fayek", SyncState.SYNCED)


def test_identity_with_spaces_is_rejected(write_file):
    _, result = run(write_file("phone,identity\n+32470123456,Fay ek\n"))
    assert result.rejected == 1 and "identity" in result.rejections[0][1]


def test_old_mac_line_ends_are_read_in_blocks(write_file):
    text = "phone,first_name\r+32470000001,Anna\rbad,x\r+32470000002,Bob\r"
    path = write_file(text)
    for block_bytes in (5, 1 << 20):
        contact_import = ContactImport.objects.create(original_name="mac")
        result = imports.contacts_import(contact_import=contact_import, path=path, workers=0, block_bytes=block_bytes)
        assert (result.rows_read, result.rejections[0][0]) == (3, 3), block_bytes
    assert Contact.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.slow
def test_import_on_postgresql():
    """This module and the storage/sync tests of the import again, on a throwaway PostgreSQL
    cluster: the writer's SQL differs there (arrays instead of JSON lists, `||` for attributes)."""
    if on_postgresql():
        assert connection.vendor == "postgresql"
        return
    run_on_postgresql(["tests/contacts/test_import.py", "tests/contacts/test_import_storage.py"], name="contact_import")
