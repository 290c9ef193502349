"""Benchmarks: `python -m bench` runs every module listed in BENCHMARKS.

A benchmark module has `run() -> dict` (one key per benchmark, values are small dicts of
figures) and may be run on its own: `python -m bench.import_contacts`. Django is set up by
`setup_django()` on a throw-away SQLite database unless BENCH_DATABASE_URL is given.
"""

import os
import tempfile

BENCHMARKS = [
    "bench.sandbox_throughput",
    "bench.import_contacts",
    "bench.dispatch",
    "bench.webhook_ingest",
    "bench.changelist",
    "bench.faults",
]

_ready = False


def setup_django() -> None:
    """Django on a fresh, migrated database (once per process)."""
    global _ready
    if _ready:
        return
    if not os.environ.get("BENCH_DATABASE_URL"):
        path = os.path.join(tempfile.mkdtemp(prefix="bench-db-"), "bench.sqlite3")
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    else:
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + os.urandom(24).hex())
    os.environ.setdefault("LOG_FORMAT", "text")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False, skip_checks=True)
    _ready = True
