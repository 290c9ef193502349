"""Sending windows in the recipient's local time (selectors: no writes). A number's country
and time zones come from phonenumbers; a number with several zones (Australia, Russia, the
United States' shared ranges…) may only be sent to when the window is open in all of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as phone_zones

from messaging.campaigns.models import SendingWindow

HORIZON_DAYS = 62  # an opening further away than this is "none"
UNKNOWN_ZONE = "Etc/UTC"


@lru_cache(maxsize=20000)
def _place_of_prefix(prefix: str) -> tuple[str, str]:
    try:
        parsed = phonenumbers.parse(prefix + "0" * max(0, 12 - len(prefix)))
    except phonenumbers.NumberParseException:
        return "", UNKNOWN_ZONE
    zones = [z for z in phone_zones.time_zones_for_number(parsed) if z != "Etc/Unknown"]
    return phonenumbers.region_code_for_number(parsed) or "", "|".join(zones) or UNKNOWN_ZONE


def place_of(number: str) -> tuple[str, str]:
    """(country, zones joined by |) of an E.164 number; zones depend on the leading digits only
    (cached by the first eight)."""
    return _place_of_prefix(str(number)[:9])


@dataclass(frozen=True)
class Rule:
    opens: time
    closes: time
    weekdays: str
    skip: frozenset

    @property
    def always(self) -> bool:
        return self.opens == time(0) and self.closes == time(0) and len(set(self.weekdays)) == 7 and not self.skip

    def day_open(self, day: date) -> bool:
        return str(day.weekday()) in self.weekdays and day not in self.skip

    def span(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        start = datetime.combine(day, self.opens, zone)
        end_day = day + timedelta(days=1) if self.closes <= self.opens else day  # 00:00 or past midnight
        end = datetime.combine(end_day, self.closes, zone)
        return start, end


def _rule(window: SendingWindow) -> Rule:
    skip = set()
    for line in (window.skip_dates or "").replace(",", "\n").split():
        try:
            skip.add(date.fromisoformat(line.strip()))
        except ValueError:
            continue
    return Rule(window.opens, window.closes, window.weekdays, frozenset(skip))


class Windows:
    """The window rows, read once."""

    def __init__(self):
        self.rules = {(w.country, w.traffic): _rule(w) for w in SendingWindow.objects.filter(active=True)}

    def rule(self, country: str, traffic: str) -> Rule | None:
        """The country's rule, else the default; None: no window (always open)."""
        found = self.rules.get((country, traffic)) or self.rules.get(("", traffic))
        return None if found is None or found.always else found

    def restricts(self, traffic: str) -> bool:
        return any(t == traffic and not r.always for (_c, t), r in self.rules.items())

    @staticmethod
    def open_in(rule: Rule, zone: str, at: datetime) -> bool:
        tz = ZoneInfo(zone)
        local = at.astimezone(tz)
        for day in (local.date() - timedelta(days=1), local.date()):  # a window may run past midnight
            start, end = rule.span(day, tz)
            if rule.day_open(day) and start <= local < end:
                return True
        return False

    @staticmethod
    def opening_in(rule: Rule, zone: str, after: datetime) -> datetime | None:
        tz = ZoneInfo(zone)
        local = after.astimezone(tz)
        for offset in range(HORIZON_DAYS):
            day = local.date() + timedelta(days=offset)
            start, end = rule.span(day, tz)
            if rule.day_open(day) and end > local:
                return max(start, local)
        return None

    def is_open(self, rule: Rule | None, zones: str, at: datetime) -> bool:
        return rule is None or all(self.open_in(rule, z, at) for z in zones.split("|"))

    def next_opening(self, rule: Rule | None, zones: str, after: datetime) -> datetime | None:
        """The first moment from ``after`` at which the window is open in every zone."""
        moment = after
        for _ in range(4 * HORIZON_DAYS):
            if self.is_open(rule, zones, moment):
                return moment
            openings = [self.opening_in(rule, z, moment) for z in zones.split("|")]
            if None in openings or max(openings) - after > timedelta(days=HORIZON_DAYS):
                return None
            moment = max(max(openings), moment + timedelta(minutes=1))
        return None


def validity_deadline(campaign, start: datetime | None = None) -> datetime | None:
    """The moment after which the campaign's messages are not sent (its validity from the
    launch, or from ``start`` before it); None without a validity."""
    start = campaign.launched_at or start
    if not campaign.validity_hours or start is None:
        return None
    return start + timedelta(hours=campaign.validity_hours)


def window_preview(campaign, eligible, *, start: datetime, limit_days: int) -> list[str]:
    """The preview's lines for ``eligible`` (less whom the frequency cap leaves out): how many
    recipients go now, how many later and when, and a warning when a window pushes delivery
    past the campaign's validity or the schedule limit, or finds no opening."""
    from messaging.campaigns.frequency_selectors import traffic_kind, without_capped

    windows = Windows()
    traffic = traffic_kind(campaign)
    if not windows.restricts(traffic):
        return []
    places: dict[tuple[str, str], int] = {}
    for number in without_capped(campaign, eligible).values_list("phone", flat=True).iterator():
        place = place_of(number)
        places[place] = places.get(place, 0) + 1
    if not places:
        return []
    now_count, later, never = 0, {}, 0
    for (country, zones), count in places.items():  # one opening per country and zones
        opening = windows.next_opening(windows.rule(country, traffic), zones, start)
        if opening is None:
            never += count
        elif opening <= start:
            now_count += count
        else:
            later[opening] = later.get(opening, 0) + count
    when = ""
    if later:
        first, last = f"{min(later):%Y-%m-%d %H:%M} UTC", f"{max(later):%Y-%m-%d %H:%M} UTC"
        when = f", at {first}" if first == last else f", from {first} to {last}"
    lines = [f"Sending windows ({traffic}): {now_count} recipient(s) go at the start, "
             f"{sum(later.values())} later{when}."]
    deadline = validity_deadline(campaign, start)
    expired = sum(count for opening, count in later.items() if deadline and opening > deadline)
    if expired:
        lines.append(f"{expired} recipient(s) wait for a sending window that opens after the campaign's "
                     f"validity ({campaign.validity_hours} h, until {deadline:%Y-%m-%d %H:%M} UTC): "
                     "they will not be sent to.")
    if later and max(later) > start + timedelta(days=limit_days):
        lines.append(f"A sending window pushes delivery past the {limit_days}-day schedule limit.")
    if never:
        lines.append(f"{never} recipient(s) have no sending window in the next {HORIZON_DAYS} days: "
                     "they will not be sent to.")
    return lines
