"""Signals other apps listen to.

``template_content_changed(sender=Template, template=..., fields=[...], user=...)`` is sent
when the content of a template that was approved (or waiting for approval) changes, here or
by a pull from BICS. The template is back in draft by then. The campaigns app
connects to it to pause every campaign that uses the template; campaigns keep the approved
version they were launched with (``TemplateApproval`` rows hold that content).
"""

from django.dispatch import Signal

template_content_changed = Signal()
