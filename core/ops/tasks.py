from celery import shared_task

from core.ops import health

# Explicit names: beat rows and routes refer to the names these tasks had in core.tasks.


@shared_task(name="core.tasks.check_bics_health", soft_time_limit=30, time_limit=40)
def check_bics_health():
    """Keeps the cached BICS check fresh so /healthz answers without spending budget."""
    return health.check_bics(force=True)


@shared_task(name="core.tasks.check_alerts", soft_time_limit=60, time_limit=90)
def check_alerts():
    """Repeated sync failures, DLR lag, GET budget, token expiry, balance: dashboard + e-mail."""
    from core.ops.alerts import alerts_check

    return [alert.key for alert in alerts_check()]


@shared_task(name="core.tasks.purge_old_data", soft_time_limit=1800, time_limit=1900)
def purge_old_data():
    """Retention: blank or mask personal data past its period (counts kept)."""
    from core.ops.retention import retention_purge

    return retention_purge().counts
