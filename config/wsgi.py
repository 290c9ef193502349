"""The WSGI application: Django, with the webhook receiver's lean path in front of it
(``messaging.webhooks.receiver_wsgi``: BICS callbacks stored without the middleware stack)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from messaging.webhooks.receiver_wsgi import lean_application  # noqa: E402 - needs the apps loaded above

application = lean_application(django_application)
