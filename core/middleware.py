"""Session idle timeout: a signed-in session unused for ``SESSION_IDLE_TIMEOUT`` seconds ends.

The last-seen time is written at most once a minute, so polling pages (progress bars) do not
write the session on every request.
"""

import time

from django.conf import settings
from django.contrib.auth import logout

KEY = "_last_seen"


class SessionIdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timeout = int(getattr(settings, "SESSION_IDLE_TIMEOUT", 0) or 0)
        user = getattr(request, "user", None)
        if timeout and user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(KEY)
            if last is not None and now - int(last) > timeout:
                logout(request)
            elif last is None or now - int(last) >= 60:
                request.session[KEY] = now
        return self.get_response(request)
