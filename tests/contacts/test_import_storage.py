"""Imports across machines: the upload lives in the storage every worker reaches (the database
by default), so a worker in another process, another working directory and without the web
server's media folder imports it; and a sync that starts during a long import is noticed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from contacts.models import Contact, ContactImport, ImportState
from contacts.services import imports
from core.models import StoredFile, SyncState

ROOT = Path(__file__).resolve().parents[2]
ROWS = 300


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    return f"postgres://{s['USER']}:{s.get('PASSWORD') or ''}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_worker_on_another_machine_imports_the_upload_from_the_storage(tmp_path):
    body = "phone,first_name\n" + "".join(f"+3247{n:07d},P{n}\n" for n in range(ROWS))
    item = ContactImport(original_name="list.csv", state=ImportState.QUEUED)
    item.file.save("list.csv", SimpleUploadedFile("list.csv", body.encode()), save=True)
    assert StoredFile.objects.filter(name=item.file.name, complete=True, size=len(body)).exists()
    elsewhere = tmp_path / "other-machine"
    elsewhere.mkdir()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": _database_url(),
           "DJANGO_DEBUG": "1", "DJANGO_SECRET_KEY": "worker-" + "k" * 40, "MEDIA_STORAGE": "db",
           "MEDIA_ROOT": str(elsewhere / "media"), "PYTHONPATH": str(ROOT), "LOG_FORMAT": "text",
           "CACHE_URL": "locmemcache://", "CELERY_BROKER_URL": "memory://"}
    code = ("import json, django; django.setup(); from contacts.tasks import import_contacts; "
            f"print(json.dumps(import_contacts.run({item.pk})))")
    done = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"imported": ROWS, "updated": 0, "duplicates": 0, "rejected": 0}
    item.refresh_from_db()
    assert item.state == ImportState.DONE and item.rows_imported == ROWS
    assert Contact.objects.count() == ROWS
    assert not (elsewhere / "media").exists()  # nothing was looked for on that machine's disk


@pytest.mark.django_db
def test_stored_files_are_read_back_in_chunks(monkeypatch):
    from core import uploads

    monkeypatch.setattr(uploads, "CHUNK_BYTES", 7)
    item = ContactImport(original_name="c.csv")
    data = b"phone\n" + b"".join(b"+3247%07d\n" % n for n in range(20))
    item.file.save("c.csv", SimpleUploadedFile("c.csv", data), save=True)
    stored = StoredFile.objects.get(name=item.file.name)
    assert stored.chunks.count() == -(-len(data) // 7)
    item.file.open("rb")
    assert item.file.read() == data
    item.file.close()
    item.file.open("rb")  # again, as FieldFile users do
    item.file.seek(10)
    assert item.file.read(5) == data[10:15]
    item.file.close()


@pytest.mark.django_db
def test_tag_links_made_after_a_sync_started_mark_synced_contacts_dirty(write_file, monkeypatch):
    late = Contact.objects.create(phone="+32470000009")  # never synced when the import starts
    path = write_file("phone,tags\n" + "".join(f"+3247000000{n},vip\n" for n in range(10)))
    original = imports.ImportWriter.write
    calls = []

    def write(self, parsed, position):
        original(self, parsed, position)
        calls.append(position)
        if len(calls) == 1:  # a sync pushed the contact while the import was running
            Contact.objects.filter(pk=late.pk).update(sync_state=SyncState.SYNCED, bics_id="c-9")

    monkeypatch.setattr(imports.ImportWriter, "write", write)
    item = ContactImport.objects.create(original_name="tags.csv")
    imports.contacts_import(contact_import=item, path=path, workers=0, block_bytes=1)
    assert len(calls) > 2
    late.refresh_from_db()
    assert list(late.tags.values_list("name", flat=True)) == ["vip"]
    assert late.sync_state == SyncState.DIRTY


def test_media_storage_is_chosen_by_one_setting():
    from core.uploads import storage_backend

    assert storage_backend("db") == {"BACKEND": "core.uploads.DatabaseStorage"}
    assert storage_backend("file")["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    s3 = storage_backend("s3://uploads/backoffice/media", endpoint_url="https://s3.example.com")
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
    assert (s3["OPTIONS"]["bucket_name"], s3["OPTIONS"]["location"], s3["OPTIONS"]["endpoint_url"]) == (
        "uploads", "backoffice/media", "https://s3.example.com")
    with pytest.raises(ValueError):
        storage_backend("ftp://nope")
