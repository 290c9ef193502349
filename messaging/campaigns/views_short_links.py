"""``/s/<code>``: the public end of a tracked short link (recipients are not users: no login,
no permission; the code itself is the unguessable key and carries no personal data).

``ShortLinkMiddleware`` answers these paths before the session, CSRF, authentication,
messages and lockout middleware: a recipient's redirect reads none of them, and each costs
every visit time under load. The URL pattern stays (``reverse``, and a stack without it)."""

from __future__ import annotations

import re

from django.http import Http404, HttpResponseRedirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from messaging.campaigns.services.short_links import link_follow, link_target

SHORT_PATH = re.compile(r"/s/(?P<code>[A-Za-z0-9_-]{1,16})")


@require_safe
@never_cache
def short_link_redirect(request, code: str):
    if request.method == "HEAD":  # link previewers probe with HEAD: not a click
        row = link_target(code)
        url = row[0] if row else None
    else:
        url = link_follow(code)
    if url is None:
        raise Http404("This link does not exist or has expired.")
    return HttpResponseRedirect(url)  # 302


class ShortLinkMiddleware:
    """Serve ``/s/<code>`` at once (place it right after SecurityMiddleware: HTTPS redirect
    and security headers still apply); every other path goes on down the stack."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = SHORT_PATH.fullmatch(request.path_info) if request.method in ("GET", "HEAD") else None
        if match is None:  # other methods take the whole stack (CSRF refuses a POST as anywhere else)
            return self.get_response(request)
        return short_link_redirect(request, match["code"])
