"""Demo data for Verify: a few OTP requests in different states and one API client.

Idempotent: requests are found again by their reference, the client by its name. The API
key is printed only when the client is created (it is stored hashed and cannot be shown later).
"""

from datetime import timedelta

from django.utils import timezone

from verify import services
from verify.models import ApiClient, OtpRequest, OtpStatus

CLIENT_NAME = "Demo shop (API)"

REQUESTS = [
    ("demo-otp-1", "+32470000101", ["sms"], OtpStatus.SUCCESS),
    ("demo-otp-2", "+32470000102", ["sms", "whatsapp"], OtpStatus.SENT),
    ("demo-otp-3", "+32470000103", ["whatsapp", "sms", "engage"], OtpStatus.EXPIRED),
    ("demo-otp-4", "+32470000104", ["sms"], OtpStatus.INVALID),
    ("demo-otp-5", "+32470000105", ["viber", "sms"], OtpStatus.CANCELLED),
    ("demo-otp-6", "+32470000106", ["sms"], OtpStatus.ERROR),
]


def seed(stdout):
    client = ApiClient.objects.filter(name=CLIENT_NAME).first()
    if client is None:
        client, raw_key = services.api_client_create(name=CLIENT_NAME)
        stdout.write(f"verify: API client {CLIENT_NAME!r} created; its key (shown once): {raw_key}")
    now = timezone.now()
    created = 0
    for index, (reference, number, channels, status) in enumerate(REQUESTS):
        if OtpRequest.objects.filter(reference=reference).exists():
            continue
        started = now - timedelta(hours=index * 5)
        otp = OtpRequest.objects.create(
            number=number, channels=channels, reference=reference, status=status,
            api_client=client if index % 2 else None,
            bics_id=None if status == OtpStatus.ERROR else f"demo-{reference}",
            expires_at=started + timedelta(seconds=100) if status != OtpStatus.SENT
            else now + timedelta(minutes=30),
            verified_at=started + timedelta(seconds=30) if status == OtpStatus.SUCCESS else None,
            cancelled_at=started + timedelta(seconds=20) if status == OtpStatus.CANCELLED else None,
            verify_attempts=1 if status in (OtpStatus.SUCCESS, OtpStatus.INVALID) else 0,
            last_error="Demo: BICS refused the send." if status == OtpStatus.ERROR else "",
        )
        OtpRequest.objects.filter(pk=otp.pk).update(created_at=started)
        created += 1
    stdout.write(f"verify: {created} demo OTP request(s) added.")
