from celery import shared_task

from verify import services


@shared_task(soft_time_limit=60, time_limit=90)
def mark_expired_otp_requests():
    """Sent requests past their expiry become `expired`."""
    return services.otp_mark_expired()


@shared_task(soft_time_limit=600, time_limit=660)
def mask_old_otp_numbers():
    """Numbers of requests older than VERIFY_NUMBER_RETENTION_DAYS are masked for good."""
    return services.otp_mask_old_numbers()
