"""Launch preparation: the audience becomes ``Message`` rows and their ``SendBatch``es in
chunks by contact key, each chunk its own short transaction.

A chunk covers the next contacts by primary key after ``Campaign.launch_cursor``; the same
transaction moves the cursor (a conditional UPDATE: two preparers cannot both write a chunk)
and adds to ``prepared_count``. A crash rolls back the chunk it was writing; a restart
resumes at the cursor. ``custom_id`` is derived from the campaign and the contact (unique),
so a recipient can never be written twice. Identical text is one ``INSERT … SELECT`` per
chunk from the segment's query (batches of ``batch_size`` numbers formed per chunk);
personalised text is rendered in a streaming pass over the chunk's rows (a batch of one per
message). The uploaded list follows the contacts, in chunks of rows (``upload_cursor``).
Sending may start as soon as the first chunk is committed.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F, Max, QuerySet
from django.utils import timezone

from messaging.campaigns import selectors as sel
from messaging.campaigns.models import Campaign, Message, MessageStatus, SendBatch

UPLOAD_CHUNK = 900
MESSAGE_COLUMNS = ("campaign_id", "batch_id", "contact_id", "channel", "number", "custom_id", "text", "variables",
                   "is_sample", "status", "bics_status", "bics_message_id", "group_id", "parts", "error_code",
                   "error_description", "created_at")


class PreparationRaced(RuntimeError):
    """Another preparer moved the cursor first: this chunk is rolled back."""


def default_batch_size() -> int:
    return int(sel.setting("CAMPAIGN_BATCH_SIZE", 1000))


def chunk_size(identical: bool) -> int:
    """Contacts per chunk transaction: an identical-text chunk is one INSERT … SELECT (10,000
    rows stay well under 250 ms on SQLite); a personalised one also renders and writes a
    batch per row."""
    if identical:
        return int(sel.setting("CAMPAIGN_LAUNCH_CHUNK", 10000))
    return int(sel.setting("CAMPAIGN_LAUNCH_CHUNK_PERSONAL", 2000))


def custom_id_for(campaign_id: int, contact_id: int) -> str:
    return f"c{campaign_id}-{contact_id:012d}"  # zero-padded: the unique index grows at its end


def _chunk_written(campaign_id: int, rows: int) -> None:
    """Called inside each chunk's transaction once the cursor moved (tests raise here to
    simulate a crash)."""


# --------------------------------------------------------------------------- entry points
def write_messages(*, campaign: Campaign, plan: sel.AudiencePlan | None = None, chunk: int | None = None) -> int:
    """Prepare the whole audience now, in this process (chunked); returns the rows written."""
    if not Campaign.objects.filter(pk=campaign.pk, preparing=True).exists():
        total = plan.eligible if plan is not None else None
        Campaign.objects.filter(pk=campaign.pk).update(preparing=True, audience_total=total, prepared_count=0,
                                                       launch_cursor=0, upload_cursor=0)
    return campaign_prepare(campaign.pk, chunk=chunk)


def campaign_prepare(campaign_id: int, *, chunk: int | None = None,
                     after_chunk: Callable[[], None] | None = None) -> int:
    """Write the rest of a campaign's audience (resuming at its cursors), then end the
    preparing phase. ``after_chunk`` runs after each committed chunk (it queues sending).
    Returns the campaign's ``prepared_count`` (also when there was nothing left to write)."""
    writer = _Writer(campaign_id, chunk)
    if writer.campaign is not None:
        writer.write_sample()
        _write_chunks(writer, after_chunk)
    return Campaign.objects.filter(pk=campaign_id).values_list("prepared_count", flat=True).first() or 0


def _write_chunks(writer: _Writer, after_chunk: Callable[[], None] | None) -> None:
    pause = float(sel.setting("CAMPAIGN_LAUNCH_CHUNK_PAUSE", 0))
    while writer.next_chunk():
        if after_chunk is not None:
            after_chunk()
        if pause:
            time.sleep(pause)
    Campaign.objects.filter(pk=writer.campaign.pk, preparing=True).update(
        preparing=False, audience_size=F("prepared_count"), prepared_beat_at=timezone.now())


def stale_preparations(*, now=None) -> list[int]:
    """Campaigns still preparing whose last chunk is older than ``CAMPAIGN_PREPARE_STALE``
    seconds (the process writing them died): the beat resumes them."""
    now = now or timezone.now()
    age = timedelta(seconds=int(sel.setting("CAMPAIGN_PREPARE_STALE", 60)))
    return list(Campaign.objects.filter(preparing=True, prepared_beat_at__lt=now - age)
                .exclude(state__in=Campaign.FINAL_STATES).values_list("pk", flat=True))


# --------------------------------------------------------------------------- the writer
class _Writer:
    def __init__(self, campaign_id: int, chunk: int | None):
        self.campaign = (Campaign.objects.select_related("template", "template_approval", "sender")
                         .filter(pk=campaign_id, preparing=True).first())
        if self.campaign is None:
            return
        c = self.campaign
        self.content = sel.campaign_content(c)
        self.sources = sel.variable_sources(c)
        self.identical = sel.is_identical(c) and c.channel == "sms"
        self.chunk = chunk or chunk_size(self.identical)
        self.size = max(1, min(c.batch_size or default_batch_size(), 1000))
        if self.identical:
            self.content = sel.render(self.content, sel.recipient_values(self.sources, {}) or {})
        self.parts = sel.parts_of(c, self.content) if self.identical else None
        self.eligible = sel.eligible_contacts(c)
        self.prefix = f"c{c.pk}"
        self.upload: Iterator | None = None
        self.upload_done = not c.upload

    # ---- smart delivery sample
    def write_sample(self) -> None:
        """Smart delivery: a random sample of the eligible contacts, written first in batches
        of its own (``is_sample``) so the sample can go out while the rest is written."""
        c = self.campaign
        if c.smart_delivery and not SendBatch.objects.filter(campaign_id=c.pk, is_sample=True).exists():
            with transaction.atomic():
                rows = list(self.eligible.order_by("?").values(*sel.SAMPLE_FIELDS)[:c.smart_sample_size or 10])
                self._write_rows(rows, sample=True)
                Campaign.objects.filter(pk=c.pk).update(prepared_count=F("prepared_count") + len(rows))
        self.sample_ids = [pk for pk in Message.objects.filter(campaign_id=c.pk, is_sample=True)
                           .values_list("contact_id", flat=True) if pk]

    # ---- one chunk
    def next_chunk(self) -> bool:
        """Write the next chunk in its own transaction; False when nothing is left."""
        with transaction.atomic():
            state = (Campaign.objects.filter(pk=self.campaign.pk, preparing=True)
                     .exclude(state__in=Campaign.FINAL_STATES).values_list("launch_cursor", "upload_cursor").first())
            if state is None:
                return False  # finished or cancelled meanwhile
            cursor, upload_cursor = state
            high = self._chunk_end(cursor)
            if high is not None:
                written = self._contacts_chunk(cursor, high)
                moved = Campaign.objects.filter(pk=self.campaign.pk, launch_cursor=cursor).update(
                    launch_cursor=high, prepared_count=F("prepared_count") + written,
                    prepared_beat_at=timezone.now())
            elif not self.upload_done:
                consumed, written = self._upload_chunk(upload_cursor)
                if not consumed:
                    self.upload_done = True
                    return True
                moved = Campaign.objects.filter(pk=self.campaign.pk, upload_cursor=upload_cursor).update(
                    upload_cursor=upload_cursor + consumed, prepared_count=F("prepared_count") + written,
                    prepared_beat_at=timezone.now())
            else:
                return False
            if not moved:
                raise PreparationRaced(f"campaign {self.campaign.pk}: another preparer moved the cursor")
            _chunk_written(self.campaign.pk, written)
        return True

    def _chunk_end(self, cursor: int) -> int | None:
        """The last contact key of the next chunk (keys, not eligible rows: one index range)."""
        from contacts.models import Contact

        after = Contact.objects.filter(pk__gt=cursor).order_by("pk").values_list("pk", flat=True)
        end = after[self.chunk - 1:self.chunk].first()
        return end if end is not None else after.aggregate(last=Max("pk"))["last"]

    def _contacts_chunk(self, cursor: int, high: int) -> int:
        qs = self.eligible.filter(pk__gt=cursor, pk__lte=high)
        if self.sample_ids:
            qs = qs.exclude(pk__in=self.sample_ids)
        if self.identical:
            return self._insert_select(qs)
        rows = list(qs.order_by("pk").values(*sel.SAMPLE_FIELDS))
        return self._write_rows(rows)

    # ---- identical text: set-based
    def _insert_select(self, qs: QuerySet) -> int:
        """One INSERT … SELECT of the chunk's eligible contacts; each row joins the batch of
        its position (``row_number / batch_size``), the batches made just before."""
        expected = qs.count()
        if not expected:
            return 0
        base = self._new_batches(expected)
        sql, params = qs.order_by().annotate(r_id=F("pk"), r_phone=F("phone")).values_list(
            "r_id", "r_phone").query.get_compiler(connection=connection).as_sql()
        pg = connection.vendor == "postgresql"
        padded = "lpad(CAST(a.id AS TEXT), 12, '0')" if pg else "printf('%%012d', a.id)"
        empty_json = "'{}'::jsonb" if pg else "'{}'"
        insert = (
            f"INSERT INTO {Message._meta.db_table} ({', '.join(MESSAGE_COLUMNS)}) "  # noqa: S608 - names are ours
            f"SELECT %s, b.id, a.id, %s, a.phone, %s || {padded}, '', {empty_json}, %s, %s, '', '', '', %s, '', '', %s "
            f"FROM (SELECT s.r_id AS id, s.r_phone AS phone, ROW_NUMBER() OVER (ORDER BY s.r_id) - 1 AS rn "
            f"FROM ({sql}) s) a JOIN {SendBatch._meta.db_table} b ON b.campaign_id = %s AND b.state = %s "
            f"AND b.is_sample = %s AND b.number = %s + 1 + a.rn / %s")
        c = self.campaign
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        values = [c.pk, c.channel, f"{self.prefix}-", False, MessageStatus.QUEUED, self.parts or 1, now,
                  *params, c.pk, SendBatch.State.PENDING, False, base, self.size]
        with connection.cursor() as cursor:
            cursor.execute(insert, values)
            written = cursor.rowcount
        if written != expected:  # the audience changed between count and insert: redo the chunk
            raise PreparationRaced(f"campaign {c.pk}: {written} rows written, {expected} counted")
        return written

    def _new_batches(self, rows: int) -> int:
        """``ceil(rows / size)`` pending batches after the campaign's last; returns the number
        before the first."""
        c = self.campaign
        base = SendBatch.objects.filter(campaign_id=c.pk, is_sample=False).aggregate(n=Max("number"))["n"] or 0
        count = math.ceil(rows / self.size)
        SendBatch.objects.bulk_create([
            SendBatch(campaign_id=c.pk, number=base + i + 1, custom=f"{self.prefix}-b{base + i + 1}",
                      text=self.content, size=min(self.size, rows - i * self.size)) for i in range(count)])
        return base

    # ---- rows in Python: personalised text, the sample, the uploaded list
    def _write_rows(self, rows: list[dict], *, sample: bool = False, upload_at: int | None = None) -> int:
        """Render and write rows (contact-shaped dicts). Identical text: batches of
        ``batch_size``; personalised: a batch of one per message whose ``custom`` is the
        message's ``custom_id``."""
        c = self.campaign
        messages: list[Message] = []
        for offset, row in enumerate(rows):
            values = sel.recipient_values(self.sources, row)
            if values is None:
                continue  # a value went missing since the count
            custom_id = custom_id_for(c.pk, row["pk"]) if row.get("pk") else \
                f"{self.prefix}-u{(upload_at or 0) + offset:09d}"
            message = Message(campaign_id=c.pk, contact_id=row.get("pk"), channel=c.channel, number=row["phone"],
                              custom_id=custom_id, is_sample=sample)
            if not self.identical:
                message.text = sel.render(self.content, values)
                message.variables = values
                message.parts = sel.parts_of(c, message.text)
            messages.append(message)
        if not messages:
            return 0
        if self.identical:
            self._into_batches(messages, sample)
        else:
            base = 0 if sample else self._last_number()
            batches = SendBatch.objects.bulk_create([
                SendBatch(campaign_id=c.pk, number=0 if sample else base + i + 1, custom=m.custom_id,
                          is_sample=sample, size=1) for i, m in enumerate(messages)])
            for message, batch in zip(messages, batches, strict=True):
                message.batch_id = batch.pk
        insert_messages(messages)
        return len(messages)

    def _last_number(self) -> int:
        return SendBatch.objects.filter(campaign_id=self.campaign.pk, is_sample=False).aggregate(
            n=Max("number"))["n"] or 0

    def _into_batches(self, messages: list[Message], sample: bool) -> None:
        c = self.campaign
        if sample:
            batch = SendBatch.objects.create(campaign_id=c.pk, number=0, is_sample=True, custom=f"{self.prefix}-s",
                                             text=self.content, size=len(messages))
            groups = [(batch, messages)]
        else:
            base = self._new_batches(len(messages))
            made = dict(SendBatch.objects.filter(campaign_id=c.pk, is_sample=False, number__gt=base)
                        .values_list("number", "pk"))
            groups = [(made[base + 1 + i // self.size], messages[i:i + self.size])
                      for i in range(0, len(messages), self.size)]
        for batch, group in groups:
            for message in group:
                message.batch_id = batch if isinstance(batch, int) else batch.pk
                message.parts = self.parts

    def _upload_chunk(self, upload_cursor: int) -> tuple[int, int]:
        """The next ``UPLOAD_CHUNK`` rows of the uploaded list: (rows consumed, written)."""
        if self.upload is None:
            self.upload = _skip(sel.upload_rows(self.campaign), upload_cursor)
        try:
            raw = [row for _i, row in zip(range(UPLOAD_CHUNK), self.upload, strict=False)]
        except ValueError:  # no number column: the preview warned about it; the list is left out
            return 0, 0
        if not raw:
            return 0, 0
        return len(raw), self._write_rows(_upload_candidates(self.campaign, self.sources, raw),
                                          upload_at=upload_cursor)


def _skip(rows: Iterator, count: int) -> Iterator:
    for index, row in enumerate(rows):
        if index >= count:
            yield row


def _upload_candidates(campaign: Campaign, sources, raw: list[dict]) -> list[dict]:
    """Rows of an uploaded chunk that pass the exclusions: valid, once, not already a
    recipient (a contact or an earlier row), not opted out in scope, variables present."""
    seen: set[str] = set()
    rows = []
    for row in raw:
        if row["phone"] and re.match(sel.VALID_NUMBER, row["phone"]) and row["phone"] not in seen:
            seen.add(row["phone"])
            rows.append(row)
    numbers = [r["phone"] for r in rows]
    opted = sel.upload_unsubscribed(campaign, numbers)
    known = set(Message.objects.filter(campaign_id=campaign.pk, number__in=numbers).values_list("number", flat=True))
    return [r for r in rows if r["phone"] not in opted and r["phone"] not in known
            and sel.recipient_values(sources, r) is not None]


def insert_messages(messages: list[Message]) -> None:
    """One prepared INSERT run over the rows (``executemany``): Django's ``bulk_create``
    spends most of a big launch compiling statements."""
    if not messages:
        return
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    jsonb = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    placeholders = ", ".join(jsonb if c == "variables" else "%s" for c in MESSAGE_COLUMNS)
    sql = (f"INSERT INTO {Message._meta.db_table} ({', '.join(MESSAGE_COLUMNS)}) "  # noqa: S608
           f"VALUES ({placeholders})")
    rows = [(m.campaign_id, m.batch_id, m.contact_id, m.channel, m.number, m.custom_id, m.text or "",
             json.dumps(m.variables or {}), m.is_sample, MessageStatus.QUEUED, "", "", "", m.parts or 1, "", "", now)
            for m in messages]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
