"""Every periodic job, in one place.

`manage.py sync_periodic_tasks` (run by `migrate` through a post-migrate hook) loads these
into django-celery-beat. A job that already exists keeps the timing an admin gave it.
"""

# name -> (task path, every N seconds, kwargs)
PERIODIC_TASKS: dict[str, tuple[str, int, dict]] = {
    "Check BICS health": ("core.tasks.check_bics_health", 60, {}),
    "Pull sender and template statuses": ("messaging.tasks.pull_statuses", 300, {}),
    "Pull pricing and account balance": ("messaging.tasks.pull_pricing", 3600, {}),
    "Verify: mark expired OTP requests": ("verify.tasks.mark_expired_otp_requests", 60, {}),
    "Verify: mask old OTP numbers": ("verify.tasks.mask_old_otp_numbers", 3600, {}),
    "Voice: sweep bulk call batches": ("voice.tasks.sweep_bulk_calls", 60, {}),
    "Voice: pull call logs and recordings": ("voice.tasks.pull_call_reports", 900, {}),
    "Voice: refresh bulk call statuses": ("voice.tasks.refresh_bulk_statuses", 300, {}),
    "Voice: pull pricing": ("voice.tasks.pull_voice_pricing", 3600, {}),
    "Voice: pull unsubscribers": ("voice.tasks.sync_voice_unsubscribers", 3600, {"direction": "pull"}),
    "Campaigns: launch due, sweep, reconcile, advance": ("messaging.tasks.campaigns_tick", 60, {}),
    "Campaigns: poll DLRs": ("messaging.tasks.poll_dlrs", 60, {}),
    "Alerts: sync failures, DLR lag, GET budget, token expiry, balance": ("core.tasks.check_alerts", 300, {}),
    "Retention: purge old payloads and deleted contacts' data": ("core.tasks.purge_old_data", 86400, {}),
    "Webhooks: queue events left unprocessed": ("messaging.tasks.sweep_webhook_events", 15, {}),
    "Webhooks: pull smart-link visits reports": ("messaging.tasks.pull_smart_link_visits", 3600, {}),
    "Campaigns: store tracked-link clicks": ("messaging.tasks.drain_link_clicks", 10, {}),
}
