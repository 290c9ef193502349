"""Launch writes the audience once: ``Message`` rows (one per recipient, unique ``custom_id``)
and their ``SendBatch``es, streamed in chunks with one prepared INSERT per chunk."""

from __future__ import annotations

import random

from django.utils import timezone

from messaging.campaigns import selectors as sel
from messaging.campaigns.models import Campaign, Message, MessageStatus, SendBatch
from messaging.campaigns.services.short_links import links_issue

UPLOAD_CHUNK = 900


def default_batch_size() -> int:
    return int(sel.setting("CAMPAIGN_BATCH_SIZE", 1000))


def write_messages(*, campaign: Campaign, plan: sel.AudiencePlan | None = None, chunk: int = 5000) -> int:
    """Stream the eligible contacts (ordered by pk, ``chunk`` at a time) into ``Message`` rows
    and their ``SendBatch``es. Identical text: batches of ``batch_size`` numbers under the
    batch's own ``custom``; personalised: a batch of one per message (its ``custom_id``).
    A random sample (smart delivery) goes into batches of its own, flagged ``is_sample``."""
    return _Writer(campaign, plan, chunk).run()


class _Writer:
    def __init__(self, campaign: Campaign, plan: sel.AudiencePlan | None, chunk: int):
        self.campaign = Campaign.objects.select_related("template", "template_approval", "sender").get(pk=campaign.pk)
        self.chunk = chunk
        self.content = sel.campaign_content(self.campaign)
        self.sources = sel.variable_sources(self.campaign)
        self.identical = sel.is_identical(self.campaign) and self.campaign.channel == "sms"
        self.size = max(1, min(self.campaign.batch_size or default_batch_size(), 1000))
        self.qs = sel.eligible_contacts(self.campaign).order_by("pk")
        count = self.qs.count() if plan is None else plan.eligible
        self.sample: set[int] = set()
        if self.campaign.smart_delivery and count:
            self.sample = set(random.sample(range(count), min(self.campaign.smart_sample_size or 10, count)))
        self.prefix = f"c{self.campaign.pk}"
        self.batch_no = self.seq = self.written = 0
        self.current: SendBatch | None = None
        self.sample_batch: SendBatch | None = None
        if self.identical:
            self.content = sel.render(self.content, sel.recipient_values(self.sources, {}) or {})
        self.parts = sel.parts_of(self.campaign, self.content) if self.identical else None
        self.batches_with_size: list[SendBatch] = []

    def run(self) -> int:
        self._write(self._pages(), self.chunk)
        if self.campaign.upload:
            self._write(_upload_candidates(self.campaign, self.sources), UPLOAD_CHUNK)
        if self.batches_with_size:
            SendBatch.objects.bulk_update(self.batches_with_size, ["size"], batch_size=1000)
        return self.written

    def _pages(self):
        """Keyset pages of ``chunk`` rows, each read to the end before anything is written:
        no cursor stays open across the inserts (SQLite could not checkpoint its WAL)."""
        last = 0
        while True:
            page = list(self.qs.filter(pk__gt=last).values_list(*sel.SAMPLE_FIELDS)[:self.chunk])
            if not page:
                return
            last = page[-1][0]
            yield from page

    def _write(self, rows, chunk: int) -> None:
        buffer: list = []
        for row in rows:
            buffer.append(row)
            if len(buffer) >= chunk:
                self._flush(buffer)
                buffer = []
        if buffer:
            self._flush(buffer)

    def _flush(self, buffer) -> None:
        messages: list[Message] = []
        personal: list[tuple[Message, SendBatch]] = []
        for row in buffer:
            data = row if isinstance(row, dict) else dict(zip(sel.SAMPLE_FIELDS, row, strict=True))
            values = sel.recipient_values(self.sources, data)
            if values is None:
                continue  # a value went missing since the count: skip
            is_sample = self.seq in self.sample
            self.seq += 1
            custom_id = f"{self.prefix}-{self.seq:08d}"  # zero-padded: the unique index grows at its end
            message = Message(campaign_id=self.campaign.pk, contact_id=data["pk"], channel=self.campaign.channel,
                              number=data["phone"], custom_id=custom_id, is_sample=is_sample)
            if self.identical:
                self._into_shared_batch(message, is_sample)
            else:
                personal.append((message, self._own_batch(message, values, is_sample)))
            messages.append(message)
        links_issue(campaign=self.campaign, messages=messages)  # tracked short links (services.short_links)
        if personal:
            made = SendBatch.objects.bulk_create([b for _m, b in personal])
            for (message, _b), batch in zip(personal, made, strict=True):
                message.batch = batch
        _insert_messages(messages)
        self.written += len(messages)

    def _into_shared_batch(self, message: Message, is_sample: bool) -> None:
        pk = self.campaign.pk
        if is_sample:
            if self.sample_batch is None:
                self.sample_batch = SendBatch.objects.create(campaign_id=pk, number=0, is_sample=True,
                                                             custom=f"{self.prefix}-s", text=self.content)
                self.batches_with_size.append(self.sample_batch)
            batch = self.sample_batch
        else:
            if self.current is None or self.current.size >= self.size:
                self.batch_no += 1
                self.current = SendBatch.objects.create(campaign_id=pk, number=self.batch_no,
                                                        custom=f"{self.prefix}-b{self.batch_no}", text=self.content)
                self.batches_with_size.append(self.current)
            batch = self.current
        message.batch = batch
        batch.size += 1
        message.parts = self.parts

    def _own_batch(self, message: Message, values: dict, is_sample: bool) -> SendBatch:
        message.text = sel.render(self.content, values)
        message.variables = values
        message.parts = sel.parts_of(self.campaign, message.text)
        self.batch_no += 1
        return SendBatch(campaign_id=self.campaign.pk, number=0 if is_sample else self.batch_no,
                         custom=message.custom_id, is_sample=is_sample, size=1)


MESSAGE_COLUMNS = ("campaign_id", "batch_id", "contact_id", "channel", "number", "custom_id", "text", "variables",
                   "is_sample", "status", "bics_status", "bics_message_id", "group_id", "parts", "error_code",
                   "error_description", "created_at")


def _upload_candidates(campaign: Campaign, sources):
    """Rows of the uploaded list that pass the exclusions (valid, not already a recipient, not
    opted out in scope, variables present), in chunks checked against the database."""
    import re

    seen: set[str] = set()
    chunk: list[dict] = []

    def check(chunk):
        numbers = [r["phone"] for r in chunk]
        opted = sel.upload_unsubscribed(campaign, numbers)
        known = set(Message.objects.filter(campaign_id=campaign.pk, number__in=numbers)
                    .values_list("number", flat=True))
        return [r for r in chunk if r["phone"] not in opted and r["phone"] not in known
                and sel.recipient_values(sources, r) is not None]

    for row in sel.upload_rows(campaign):
        if not row["phone"] or not re.match(sel.VALID_NUMBER, row["phone"]) or row["phone"] in seen:
            continue
        seen.add(row["phone"])
        chunk.append(row)
        if len(chunk) >= UPLOAD_CHUNK:
            yield from check(chunk)
            chunk = []
    if chunk:
        yield from check(chunk)


def _insert_messages(messages: list[Message]) -> None:
    """One prepared INSERT run over the rows (``executemany``): Django's ``bulk_create``
    spends most of a million-row launch compiling statements."""
    import json

    from django.db import connection

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


