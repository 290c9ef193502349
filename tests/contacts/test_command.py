import pytest
from django.core.management import ManagementUtility, call_command
from django.db import connections

from contacts.models import Contact, ContactImport, Tag

pytestmark = pytest.mark.django_db


def test_command_prints_summary_and_each_rejected_row(write_file, capsys):
    path = write_file("phone,first_name,email\n+32470123456,Anna,\n0470,Bad,\n+33612345678,Hugo,nope\n")
    call_command("import_contacts", path, "--workers", "0")
    out = capsys.readouterr().out
    assert "line 3: rejected: invalid number '0470'" in out
    assert "line 4: rejected: invalid email 'nope'" in out
    assert "3 rows read, 1 imported, 0 updated, 0 duplicate(s), 2 rejected" in out


def test_command_tag_and_default_country(write_file, capsys):
    path = write_file("phone\n0470 12 34 56\n")
    call_command("import_contacts", path, "--tag", "fair", "--default-country", "be")
    assert "1 imported" in capsys.readouterr().out
    assert Tag.objects.get(name="fair").contacts.get().phone == "+32470123456"


def test_command_counts_updates_on_reimport(write_file, capsys):
    path = write_file("phone,first_name\n+32470123456,Anna\n+32470123456,Anna\n")
    call_command("import_contacts", path)
    call_command("import_contacts", path)
    out = capsys.readouterr().out
    assert "2 rows read, 1 imported, 0 updated, 1 duplicate(s), 0 rejected" in out
    assert "2 rows read, 0 imported, 1 updated, 1 duplicate(s), 0 rejected" in out
    assert Contact.objects.count() == 1


@pytest.mark.parametrize(
    "content, message",
    [
        ("phone,name\n+32470123456,Chlo\xe9\n".encode("latin-1"), "not UTF-8"),
        (b"name,email\nAnna,a@example.com\n", "No 'phone' column"),
        (b"", "empty"),
    ],
)
def test_refused_file_exits_with_status_1_and_writes_nothing(write_file, capsys, monkeypatch, content, message):
    monkeypatch.setattr(connections, "close_all", lambda: None)  # keep the test database open
    path = write_file(content)
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "import_contacts", path]).execute()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert message in err and "Nothing was imported" in err
    assert Contact.objects.count() == 0 and ContactImport.objects.count() == 0


def test_missing_file_exits_with_status_1(capsys):
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "import_contacts", "/nonexistent.csv"]).execute()
    assert exit_info.value.code == 1
    assert "No such file" in capsys.readouterr().err
