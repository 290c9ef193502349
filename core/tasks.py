from celery import shared_task

from core import health


@shared_task(soft_time_limit=30, time_limit=40)
def check_bics_health():
    """Keeps the cached BICS check fresh so /healthz answers without spending budget."""
    return health.check_bics(force=True)
