"""Benchmarks: `python -m bench` runs every module listed in BENCHMARKS, each in its own
subprocess on its own fresh database (``bench.db.fresh_database``).

A benchmark module has `run() -> dict` (one key per benchmark, values are small dicts of
figures) and may be run on its own: `python -m bench.import_contacts`. Django is set up by
`setup_django()` on the database the runner created (DATABASE_URL), or, run on its own, on a
fresh throw-away one (SQLite, or a new database on the BENCH_DATABASE_URL server).

Sizes default to the full ones; each has its own environment variable, and BENCH_QUICK=1
lowers every default at once (a run of a few minutes while developing).
"""

import os

BENCHMARKS = [
    "bench.sandbox_throughput",
    "bench.import_contacts",
    "bench.dispatch",
    "bench.webhook_ingest",
    "bench.launch_probe",
    "bench.changelist",
    "bench.faults",
]

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
FRESH_DB_ENV = "BENCH_FRESH_DATABASE_URL"  # set by the runner: the database made for this module

_ready = False


def size(name: str, full: int, quick: int) -> int:
    """A size: ``name`` from the environment, else the full default (quick one with BENCH_QUICK)."""
    value = os.environ.get(name)
    return int(value) if value else (quick if QUICK else full)


def setup_django() -> None:
    """Django on a fresh, migrated database (once per process)."""
    global _ready
    if _ready:
        return
    if os.environ.get(FRESH_DB_ENV):
        os.environ["DATABASE_URL"] = os.environ[FRESH_DB_ENV]
    else:  # run on its own: a database of its own, dropped at exit
        import atexit

        from bench.db import fresh_database

        context = fresh_database("standalone")
        os.environ["DATABASE_URL"] = context.__enter__()
        atexit.register(context.__exit__, None, None, None)
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
