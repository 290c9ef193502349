"""Settings of the product's gunicorn in the benchmarks: production settings, except the
static files storage. The production storage (whitenoise's manifest) needs
``collectstatic`` to have run, and a benchmark's fresh checkout has not run it: its pages
are rendered with plain static URLs instead of a manifest lookup."""

from config.settings import *  # noqa: F403
from config.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
