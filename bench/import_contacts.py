"""Contact import benchmark: a generated 1M-row CSV through the product's import.

Figures: rows/s, peak RSS (main process plus its parser workers) and the longest write
transaction (`max_write_tx_ms`, bench/txtrace.py: how long the import kept SQLite's write lock
at a time) of `contacts.services.imports.contacts_import_file`, and in the same run the baseline: the same
file through the minimal correct loop (csv + phonenumbers parse/validate/format +
executemany upsert into a fresh SQLite table, one process). The ratio is product/baseline.

    python -m bench.import_contacts          # 1M rows
    BENCH_IMPORT_ROWS=100000 python -m bench.import_contacts
"""

from __future__ import annotations

import csv
import json
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import size

ROWS = size("BENCH_IMPORT_ROWS", 1_000_000, 20_000)
BAD_SHARE = 0.03
DUPLICATE_SHARE = 0.02

_MOBILE = {  # E.164 prefix -> digits after it
    "+32 47": 7,  # BE 47x xx xx xx
    "+33 6 1": 7,
    "+33 6 2": 7,
    "+31 6 1": 7,
    "+44 77": 8,
    "+49 151": 8,
    "+1 650 2": 6,
}
_FIRST = ["Anna", "Bram", "Chloé", "-Dirk", "Emma", "Farid", "Greta", "Hugo", "Inès", "Jan"]
_LAST = ["Peeters", "Janssens", "Dubois", "Müller", "Smith", "=Maes", "Claes", "Martin"]
_CITIES = ["Brussels", "Antwerp", "Gent", "Paris", "Lyon", "Amsterdam", "London", "Berlin"]
_TAGS = ["vip", "newsletter", "gold", "promo 2026", ""]


def generate(path: Path, rows: int, seed: int = 7) -> dict:
    rng = random.Random(seed)
    prefixes = list(_MOBILE.items())
    seen: list[str] = []
    bad = duplicates = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["phone", "first_name", "last_name", "email", "tags", "city"])
        for i in range(rows):
            roll = rng.random()
            if roll < BAD_SHARE:
                phone = rng.choice(["12345", "not a number", "+32 12", "0470 12 34 56", ""])
                bad += 1
            elif roll < BAD_SHARE + DUPLICATE_SHARE and seen:
                phone = rng.choice(seen)
                duplicates += 1
            else:
                prefix, digits = prefixes[i % len(prefixes)]
                phone = prefix + str(rng.randrange(10 ** (digits - 1), 10**digits))
                if len(seen) < 5000:
                    seen.append(phone)
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            email = f"user.{i}@example.com" if i % 3 else ""
            writer.writerow([phone, first, last, email, rng.choice(_TAGS), rng.choice(_CITIES)])
    return {"rows": rows, "bad": bad, "duplicates": duplicates, "bytes": path.stat().st_size}


class RssSampler(threading.Thread):
    """Peak resident memory of this process and its children, sampled from /proc."""

    def __init__(self, interval: float = 0.05):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_kb = 0
        self._halt = threading.Event()

    @staticmethod
    def _rss_kb(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    @staticmethod
    def _tree(pid: int) -> list[int]:
        pids, todo = [], [pid]
        while todo:
            current = todo.pop()
            pids.append(current)
            try:
                for task in os.listdir(f"/proc/{current}/task"):
                    with open(f"/proc/{current}/task/{task}/children") as fh:
                        todo.extend(int(p) for p in fh.read().split())
            except OSError:
                pass
        return pids

    def run(self):
        me = os.getpid()
        while not self._halt.is_set():
            self.peak_kb = max(self.peak_kb, sum(self._rss_kb(p) for p in self._tree(me)))
            self._halt.wait(self.interval)

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return self.peak_kb / 1024


def _cpu_seconds() -> float:
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def product_import(path: Path) -> dict:
    from bench import setup_django

    setup_django()
    from bench.txtrace import TRACKER, install
    from contacts.models import Contact
    from contacts.services.imports import contacts_import_file

    Contact.objects.all().delete()
    install()
    sampler = RssSampler()
    sampler.start()
    TRACKER.start()
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    contact_import, result = contacts_import_file(path=str(path))
    elapsed = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before  # the parser processes have exited: counted as children
    peak = sampler.stop()
    transactions = TRACKER.stop()  # how long the import kept SQLite's write lock at a time
    return {
        **transactions,
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 1),  # main + workers: what the 2 cores had to do
        "cores_used": round(cpu / elapsed, 2),
        "per_s": round(result.rows_read / elapsed),
        "peak_rss_mb": round(peak, 1),
        "imported": result.imported,
        "updated": result.updated,
        "rejected": result.rejected,
        "state": contact_import.state,
    }


def baseline_import(path: Path, workdir: Path) -> dict:
    """The minimal correct loop: one process, csv + phonenumbers + executemany."""
    import phonenumbers

    db = sqlite3.connect(workdir / "baseline.sqlite3")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE contact (id INTEGER PRIMARY KEY, phone TEXT UNIQUE NOT NULL, "
        "first_name TEXT, last_name TEXT, email TEXT, tags TEXT, city TEXT)"
    )
    sql = (
        "INSERT INTO contact (phone, first_name, last_name, email, tags, city) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(phone) DO UPDATE SET first_name=excluded.first_name, "
        "last_name=excluded.last_name, email=excluded.email, tags=excluded.tags, city=excluded.city"
    )
    started = time.perf_counter()
    rows = rejected = 0
    batch = []
    e164 = phonenumbers.PhoneNumberFormat.E164
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        next(reader)
        for phone, first, last, email, tags, city in reader:
            rows += 1
            try:
                number = phonenumbers.parse(phone, None)
            except phonenumbers.NumberParseException:
                rejected += 1
                continue
            if not phonenumbers.is_valid_number(number):
                rejected += 1
                continue
            batch.append((phonenumbers.format_number(number, e164), first, last, email, tags, city))
            if len(batch) >= 5000:
                with db:
                    db.executemany(sql, batch)
                batch.clear()
        if batch:
            with db:
                db.executemany(sql, batch)
    elapsed = time.perf_counter() - started
    count = db.execute("SELECT COUNT(*) FROM contact").fetchone()[0]
    db.close()
    return {"seconds": round(elapsed, 2), "per_s": round(rows / elapsed), "contacts": count, "rejected": rejected}


def run() -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        workdir = Path(tmp)
        path = workdir / "contacts.csv"
        generated = generate(path, ROWS)
        product = product_import(path)
        baseline = baseline_import(path, workdir)
    figures = {
        "rows": ROWS,
        "file_mb": round(generated["bytes"] / 1e6, 1),
        "per_s": product["per_s"],
        "baseline_per_s": baseline["per_s"],
        "ratio": round(product["per_s"] / baseline["per_s"], 2),
        "peak_rss_mb": product["peak_rss_mb"],
        "max_write_tx_ms": product["max_write_tx_ms"],
        "cores": os.cpu_count(),
        "product": product,
        "baseline": baseline,
    }
    return {"import_1m": figures}


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    print(json.dumps(run(), indent=2))
