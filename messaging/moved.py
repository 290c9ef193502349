"""Where models of the old single ``messaging`` app went when it was split into the
catalogue (label ``messaging``), ``campaigns``, ``webhooks`` and the kernel (``core``):
admin pages bookmarked under ``/admin/messaging/<model>/`` redirect to the new label."""

from django.http import HttpResponsePermanentRedirect

MOVED_MODELS: dict[str, str] = {
    "campaign": "campaigns",
    "campaigntransition": "campaigns",
    "sendbatch": "campaigns",
    "message": "campaigns",
    "deliveryreport": "campaigns",
    "smartlink": "campaigns",
    "smartlinkvisit": "campaigns",
    "webhook": "webhooks",
    "subscription": "webhooks",
    "webhookevent": "webhooks",
    "inboundmessage": "webhooks",
    "syncrun": "core",
}
MOVED_ADMIN_PATTERN = rf"^admin/messaging/(?P<model>{'|'.join(MOVED_MODELS)})/(?P<rest>.*)$"


def moved_admin_redirect(request, model: str, rest: str):
    """The admin page under the new label, query string kept (the admin checks permissions)."""
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"/admin/{MOVED_MODELS[model]}/{model}/{rest}" + (f"?{query}" if query else ""))
