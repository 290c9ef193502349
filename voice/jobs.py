"""Voice's pulls that are not lists of records, offered as sync runs (``core.sync_runs``): the
admin starts them like any push or pull, and the run's page shows their outcome."""

from __future__ import annotations

PRICING_JOB = "voice_pricing"
REPORTS_JOB = "voice_reports"


def pull_pricing(ids: list[int] | None) -> dict[str, int]:
    from voice.services.pricing import pricing_pull

    return {"prices": pricing_pull()}


def pull_reports(ids: list[int] | None) -> dict[str, int]:
    """Call logs and recordings of yesterday and today."""
    from voice.services.reports import call_logs_pull, recordings_pull

    logs, recordings = call_logs_pull(), recordings_pull()
    return {"call logs created": logs["created"], "call logs updated": logs["updated"],
            "recordings created": recordings["created"], "recordings updated": recordings["updated"]}


def register_jobs() -> None:
    from core.sync_runs import register_job

    register_job(PRICING_JOB, "pull", pull_pricing)
    register_job(REPORTS_JOB, "pull", pull_reports)
