"""Read queries for voice pages."""

from __future__ import annotations

from django.db.models import QuerySet

from voice.models import CallLog, CallRecording, VoicePrice


def price_rows() -> list[VoicePrice]:
    return list(VoicePrice.objects.order_by("iso", "price"))


def call_logs() -> QuerySet[CallLog]:
    return CallLog.objects.order_by("-end_at", "-pk")


def recordings() -> QuerySet[CallRecording]:
    return CallRecording.objects.order_by("-created_at", "-pk")
