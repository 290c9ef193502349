"""``/s/<code>``: the public end of a tracked short link (recipients are not users: no login,
no permission; the code itself is the unguessable key and carries no personal data)."""

from __future__ import annotations

from django.http import Http404, HttpResponseRedirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from messaging.campaigns.services.short_links import link_follow


@require_safe
@never_cache
def short_link_redirect(request, code: str):
    if request.method == "HEAD":  # link previewers probe with HEAD: not a click
        from messaging.campaigns.models import ShortLink

        url = ShortLink.objects.filter(pk=code).values_list("url", flat=True).first()
    else:
        url = link_follow(code)
    if url is None:
        raise Http404("This link does not exist or has expired.")
    return HttpResponseRedirect(url)  # 302
