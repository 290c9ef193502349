"""Settings of the product's gunicorn in the benchmarks: production settings, except the
static files storage. ``collectstatic`` with the production storage (whitenoise's manifest)
fails today (``vendor/chartjs/chart.umd.min.js`` names a source map that is not shipped),
so pages are rendered with plain static URLs instead of a manifest lookup."""

from config.settings import *  # noqa: F403
from config.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
