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
from types import SimpleNamespace

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Count, F, Max, QuerySet
from django.utils import timezone

from core import sql_rows
from core.batches.turns import writer_turns
from core.planner import statistics_refresh
from messaging.campaigns import selectors as sel
from messaging.campaigns.models import Campaign, Message, MessageStatus, SendBatch
from messaging.campaigns.services.short_links import links_issue
from messaging.campaigns.services.windows import windows_assign

UPLOAD_CHUNK = 900
MESSAGE_COLUMNS = ("campaign_id", "batch_id", "contact_id", "channel", "number", "custom_id", "text", "variables",
                   "is_sample", "status", "bics_status", "bics_message_id", "group_id", "parts", "error_code",
                   "error_description", "created_at")


class PreparationRaced(RuntimeError):
    """Another preparer moved the cursor first: this chunk is rolled back."""


def default_batch_size() -> int:
    return int(sel.setting("CAMPAIGN_BATCH_SIZE", 1000))


def chunk_size(identical: bool) -> int:
    """Contacts per chunk transaction: an identical-text chunk is one INSERT … SELECT (5,000
    rows took 90-160 ms on SQLite on a loaded 2-core machine alone, 130-500 ms while the same
    process sends: half that keeps the write lock short for the webhook receiver); a
    personalised one also writes a batch per row (rendered before the transaction)."""
    if identical:
        return int(sel.setting("CAMPAIGN_LAUNCH_CHUNK", 2500))
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


def audience_statistics_refresh() -> list[str]:
    """PostgreSQL: fresh planner statistics for the tables the audience queries read, when
    stale (a bulk import just before the launch), before its counts and chunks are planned."""
    from contacts.models import Contact
    from messaging.catalogue.models import Unsubscriber

    return statistics_refresh(Contact, Unsubscriber, SendBatch)


def campaign_prepare(campaign_id: int, *, chunk: int | None = None,
                     after_chunk: Callable[[], None] | None = None) -> int:
    """Write the rest of a campaign's audience (resuming at its cursors), then end the
    preparing phase. ``after_chunk`` runs after each committed chunk (it queues sending).
    Returns the campaign's ``prepared_count`` (also when there was nothing left to write)."""
    audience_statistics_refresh()
    preparation = Preparation(campaign_id, chunk)
    pause = float(sel.setting("CAMPAIGN_LAUNCH_CHUNK_PAUSE", 0))
    with writer_turns():  # the receiver's appends get in between two chunks
        while preparation.step():
            if after_chunk is not None:
                after_chunk()
            if pause:
                time.sleep(pause)
    return Campaign.objects.filter(pk=campaign_id).values_list("prepared_count", flat=True).first() or 0


class Preparation:
    """A launch's preparation, one chunk per ``step`` (the smart-delivery sample first), so
    that a sender in the same process can write chunks between its sends."""

    def __init__(self, campaign_id: int, chunk: int | None = None):
        self.writer = _Writer(campaign_id, chunk)
        self.started = False
        self.done = self.writer.campaign is None  # not preparing (any more)

    def step(self) -> bool:
        """Write the next chunk; False once the preparing phase is over (then it is ended)."""
        if self.done:
            return False
        if not self.started:
            self.writer.write_sample()
            self.started = True
        if self.writer.next_chunk():
            return True
        Campaign.objects.filter(pk=self.writer.campaign.pk, preparing=True).update(
            preparing=False, audience_size=F("prepared_count"), prepared_beat_at=timezone.now())
        self.done = True
        return False


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
            rows = self._render(list(self.eligible.order_by("?").values(*sel.SAMPLE_FIELDS)[:c.smart_sample_size or 10]))
            with transaction.atomic():
                self._insert_rows(rows, sample=True)
                Campaign.objects.filter(pk=c.pk).update(prepared_count=F("prepared_count") + len(rows))
        self.sample_ids = [pk for pk in Message.objects.filter(campaign_id=c.pk, is_sample=True)
                           .values_list("contact_id", flat=True) if pk]

    # ---- one chunk
    def next_chunk(self) -> bool:
        """Write the next chunk; False when nothing is left. What can be read and rendered is
        done before the chunk's transaction, which only writes and moves the cursor."""
        state = (Campaign.objects.filter(pk=self.campaign.pk, preparing=True)
                 .exclude(state__in=Campaign.FINAL_STATES).values_list("launch_cursor", "upload_cursor").first())
        if state is None:
            return False  # finished or cancelled meanwhile
        cursor, upload_cursor = state
        high, keys = self._chunk_end(cursor)
        if high is not None:
            qs = sel.eligible_contacts(self.campaign, (cursor, high))
            if self.sample_ids:
                qs = qs.exclude(pk__in=self.sample_ids)
            if self.identical:
                return self._commit(lambda: self._insert_select(qs, keys), "launch_cursor", cursor, high)
            rows = self._render(list(qs.order_by("pk").values(*sel.SAMPLE_FIELDS)))
            return self._commit(lambda: self._insert_rows(rows), "launch_cursor", cursor, high)
        if self.upload_done:
            return False
        raw = self._upload_rows(upload_cursor)
        if not raw:
            self.upload_done = True
            return True
        rows = self._render(_upload_candidates(self.campaign, self.sources, raw), upload_at=upload_cursor)
        return self._commit(lambda: self._insert_rows(rows), "upload_cursor", upload_cursor, upload_cursor + len(raw))

    def _commit(self, write: Callable[[], int], cursor_field: str, old: int, new: int) -> bool:
        """The chunk's transaction: its rows, and the cursor moved only if nobody moved it."""
        with transaction.atomic():
            written = write()
            windows_assign(campaign=self.campaign)  # sending windows: tagged before anyone can claim the batches
            moved = Campaign.objects.filter(pk=self.campaign.pk, preparing=True, **{cursor_field: old}).update(
                **{cursor_field: new}, prepared_count=F("prepared_count") + written, prepared_beat_at=timezone.now())
            if not moved:
                raise PreparationRaced(f"campaign {self.campaign.pk}: another preparer moved the cursor")
            _chunk_written(self.campaign.pk, written)
        return True

    def _chunk_end(self, cursor: int) -> tuple[int | None, int]:
        """The last contact key of the next chunk and how many keys it spans (keys, not
        eligible rows: one index range); (None, 0) after the last contact."""
        from contacts.models import Contact

        after = Contact.objects.filter(pk__gt=cursor).order_by("pk").values_list("pk", flat=True)
        end = after[self.chunk - 1:self.chunk].first()
        if end is not None:
            return end, self.chunk
        rest = after.aggregate(last=Max("pk"), keys=Count("pk"))
        return rest["last"], rest["keys"]

    # ---- identical text: set-based
    def _insert_select(self, qs: QuerySet, keys: int) -> int:
        """One INSERT … SELECT of the chunk's eligible contacts; each row joins the batch of
        its position (``row_number / batch_size``). Batches for every key of the range are
        made first; the ones left empty are deleted and the last one sized after."""
        try:
            sql, params = qs.order_by().annotate(r_id=F("pk"), r_phone=F("phone")).values_list(
                "r_id", "r_phone").query.get_compiler(connection=connection).as_sql()
        except EmptyResultSet:  # a set Django knows is empty has no SQL: nobody in this chunk
            return 0
        base, batch_ids = self._new_batches(keys)
        pg = connection.vendor == "postgresql"
        padded = "lpad(CAST(a.id AS TEXT), 12, '0')" if pg else "printf('%%012d', a.id)"
        empty_json = "'{}'::jsonb" if pg else "'{}'"
        # The chunk's batches as a list of (position, id) in the statement, not a join to the
        # batch table: its statistics lag while sends update it, and PostgreSQL then planned
        # that join so badly that a chunk took seconds. (The WITH inside the INSERT: the
        # sqlite3 driver counts the rows of a statement that begins with INSERT only.)
        batches, batch_params = sql_rows.rows_cte("b", [("k", "bigint"), ("id", "bigint")], list(enumerate(batch_ids)))
        insert = (
            f"INSERT INTO {Message._meta.db_table} ({', '.join(MESSAGE_COLUMNS)}) {batches} "  # noqa: S608 - names are ours
            f"SELECT %s, b.id, a.id, %s, a.phone, %s || {padded}, '', {empty_json}, %s, %s, '', '', '', %s, '', '', %s "
            f"FROM (SELECT s.r_id AS id, s.r_phone AS phone, ROW_NUMBER() OVER (ORDER BY s.r_id) - 1 AS rn "
            f"FROM ({sql}) s) a JOIN b ON b.k = a.rn / %s")
        c = self.campaign
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        values = [*batch_params, c.pk, c.channel, f"{self.prefix}-", False, MessageStatus.QUEUED, self.parts or 1, now,
                  *params, self.size]
        with connection.cursor() as cursor:
            cursor.execute(insert, values)
            written = cursor.rowcount
        self._trim_batches(base, written)
        return written

    def _new_batches(self, rows: int, *, sizes: bool = False) -> tuple[int, list[int]]:
        """``ceil(rows / size)`` pending batches after the campaign's last; returns the number
        before the first, and their ids in order."""
        base = self._last_number()
        made = SendBatch.objects.bulk_create([
            SendBatch(campaign_id=self.campaign.pk, number=base + i + 1, custom=f"{self.prefix}-b{base + i + 1}",
                      text=self.content, size=min(self.size, rows - i * self.size) if sizes else 0)
            for i in range(math.ceil(rows / self.size))])
        return base, [batch.pk for batch in made]

    def _trim_batches(self, base: int, written: int) -> None:
        used = math.ceil(written / self.size)
        mine = SendBatch.objects.filter(campaign_id=self.campaign.pk, is_sample=False, number__gt=base)
        mine.filter(number__gt=base + used).delete()
        mine.filter(number__lt=base + used).update(size=self.size)
        mine.filter(number=base + used).update(size=written - (used - 1) * self.size)

    def _last_number(self) -> int:
        return SendBatch.objects.filter(campaign_id=self.campaign.pk, is_sample=False).aggregate(
            n=Max("number"))["n"] or 0

    # ---- rows in Python: personalised text, the sample, the uploaded list
    def _render(self, rows: list[dict], *, upload_at: int = 0) -> list[tuple]:
        """(contact, number, custom_id, text, variables, parts) per row that still has its
        values; identical text leaves text and variables to the batch."""
        c = self.campaign
        out = []
        for offset, row in enumerate(rows):
            values = sel.recipient_values(self.sources, row)
            if values is None:
                continue  # a value went missing since the count
            custom_id = custom_id_for(c.pk, row["pk"]) if row.get("pk") else f"{self.prefix}-u{upload_at + offset:09d}"
            if self.identical:
                out.append((row.get("pk"), row["phone"], custom_id, "", "{}", self.parts or 1))
            else:
                out.append((row.get("pk"), row["phone"], custom_id, sel.render(self.content, values),
                            json.dumps(values), None))
        if self.identical:
            return out
        # tracked short links: each recipient's own codes, counted at their short length
        holders = [SimpleNamespace(custom_id=row[2], text=row[3]) for row in out]
        links_issue(campaign=c, messages=holders)
        return [(*row[:3], held.text, row[4], sel.parts_of(c, held.text)) for row, held in zip(out, holders, strict=True)]

    def _insert_rows(self, rows: list[tuple], *, sample: bool = False) -> int:
        """Write rendered rows. Identical text: batches of ``batch_size`` (the sample: one of
        its own); personalised: a batch of one per message, whose ``custom`` is the
        message's ``custom_id`` (the message finds it by that unique key)."""
        if not rows:
            return 0
        c = self.campaign
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        if self.identical:
            if sample:
                ids = [SendBatch.objects.create(campaign_id=c.pk, number=0, is_sample=True, custom=f"{self.prefix}-s",
                                                text=self.content, size=len(rows)).pk] * len(rows)
            else:
                _base, batch_ids = self._new_batches(len(rows), sizes=True)
                ids = [batch_ids[i // self.size] for i in range(len(rows))]
            batch = "%s"
        else:
            base = 0 if sample else self._last_number()
            _insert_batches([(c.pk, 0 if sample else base + i + 1, row[2], sample) for i, row in enumerate(rows)])
            ids = [row[2] for row in rows]
            batch = f"(SELECT id FROM {SendBatch._meta.db_table} WHERE custom = %s)"  # noqa: S608 - our table
        jsonb = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
        sql = (f"INSERT INTO {Message._meta.db_table} ({', '.join(MESSAGE_COLUMNS)}) "  # noqa: S608 - names are ours
               f"VALUES (%s, {batch}, %s, %s, %s, %s, %s, {jsonb}, %s, %s, '', '', '', %s, '', '', %s)")
        with connection.cursor() as cursor:
            cursor.executemany(sql, [(c.pk, ref, contact, c.channel, number, custom_id, text, variables, sample,
                                      MessageStatus.QUEUED, parts, now)
                                     for ref, (contact, number, custom_id, text, variables, parts) in zip(ids, rows,
                                                                                                          strict=True)])
        return len(rows)

    def _upload_rows(self, upload_cursor: int) -> list[dict]:
        """The next ``UPLOAD_CHUNK`` rows of the uploaded list (none: the list is done)."""
        if self.upload is None:
            self.upload = _skip(sel.upload_rows(self.campaign), upload_cursor)
        try:
            return [row for _i, row in zip(range(UPLOAD_CHUNK), self.upload, strict=False)]
        except ValueError:  # no number column: the preview warned about it; the list is left out
            return []


def _insert_batches(rows: list[tuple]) -> None:
    """Batches of one (campaign, number, custom, is_sample): one prepared INSERT."""
    sql = (f"INSERT INTO {SendBatch._meta.db_table} (campaign_id, number, custom, text, is_sample, size, "  # noqa: S608
           "state, attempts, claimed_by, group_id, error) VALUES (%s, %s, %s, '', %s, 1, %s, 0, '', '', '')")
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(*row, SendBatch.State.PENDING) for row in rows])


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
