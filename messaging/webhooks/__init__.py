"""The webhooks app: receiving BICS callbacks, the django-anymail way.

* ``base.BicsWebhookView``: finds the webhook by slug (or BICS id), answers the verification
  handshake, authenticates every delivery once (Bearer secret, ``Signature`` when present,
  constant time), stores the event raw and answers 200 at once. Processing is a Celery task.
* ``receiver_wsgi``: the same accepting path for the common case (a JSON POST), served by
  ``config/wsgi.py`` in front of Django, without the middleware stack; the rest falls
  through to the view. ``append``: the one INSERT both use.
* ``ingest``: the drain, applying stored events in sets.
* ``parsing``: every shape BICS sends (``{event, payload}`` envelopes, the flat Help DLR, the
  flat Smart Link visit, customised GET webhooks with query parameters) becomes ONE
  normalised ``BicsEvent``; nothing downstream sees a request.
* ``registry``: which function processes which event type; apps register theirs in
  ``AppConfig.ready()``. ``processors`` holds this app's own (inbound messages).
"""
