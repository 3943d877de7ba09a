"""When a campaign launches (design 5.4, 11): validation and the launch times of a schedule.

A schedule is ``{"frequency", "timezone", "valid_from", "valid_until", ...}`` with
- ``asap``: at publication; ``once``: ``at``; ``signal``: only by ``trigger/``;
- ``daily``: ``times`` (["09:00", ...]); ``weekly``: ``days`` (["mon", ...]) and ``times``;
- ``monthly``: ``day`` (1-31, a day past the month's end falls on its last day, or ``"last"``) or
  ``nth_weekday`` ([2, "tue"]: n from 1 to 5, or -1 for the last; a month without that weekday
  is skipped), and ``times``;
- ``every``: ``interval`` (a design 5.0 duration, at least ``SCHEDULE_MIN_INTERVAL``), counted
  from ``valid_from``, else from the publication, as exact durations (not wall-clock times);
- ``cron``: ``expression`` (croniter), read in the campaign's time zone.

Times are wall-clock times in ``timezone`` (``valid_from`` / ``valid_until`` too, unless they
carry an offset), computed on naive local times and then placed: a local time that does not exist
(a DST gap) launches at the first instant after the gap; one that occurs twice (a fold) launches
once, at the first. zoneinfo alone would turn a 02:30 in a gap into 03:30; ``place`` gives 03:00.

- ``errors(schedule, path="schedule") -> [{"path", "message"}]``;
- ``launches(schedule, *, after, anchor=None) -> iterator`` of aware UTC datetimes strictly after
  ``after``, within the validity window, in order, each instant once;
- ``next_launches(schedule, *, after, count=5, anchor=None) -> list``.
"""

import calendar
import datetime as dt
import itertools
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from django.conf import settings

from audiences import durations

UTC = dt.UTC
FREQUENCIES = ("asap", "once", "signal", "daily", "weekly", "monthly", "every", "cron")
RECURRING = ("daily", "weekly", "monthly", "every", "cron")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
HORIZON_DAYS = 366 * 5  # no schedule is looked for further ahead than this


def zone(schedule) -> ZoneInfo:
    return ZoneInfo(schedule.get("timezone") or settings.TIME_ZONE)


def place(naive: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of a local wall-clock time (design 11's gap and fold rules)."""
    first = naive.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive:
        return first.astimezone(UTC)  # exists (in a fold: the first occurrence)
    low = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)  # before the gap's offset change
    high = first.astimezone(UTC)
    while (high - low) > dt.timedelta(seconds=1):  # the instant the offset changes
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == high.astimezone(tz).utcoffset():
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def moment(text, tz) -> dt.datetime:
    """An ISO date-time, local to ``tz`` unless it carries an offset, as a UTC instant."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        return place(value, tz)
    return value.astimezone(UTC)


# --- validation -------------------------------------------------------------------------------


def _err(path, message):
    return {"path": path, "message": message}


def _times_errors(schedule, path):
    times = schedule.get("times")
    if not isinstance(times, list) or not times:
        return [_err(f"{path}.times", 'a list of times such as ["09:00"]')]
    return [
        _err(f"{path}.times[{i}]", 'a time "HH:MM" (00:00 to 23:59)')
        for i, t in enumerate(times)
        if not (isinstance(t, str) and TIME.match(t))
    ]


def _weekly_errors(schedule, path):
    days = schedule.get("days")
    if not isinstance(days, list) or not days:
        return [_err(f"{path}.days", f"a list of days among {', '.join(DAYS)}")]
    found = [
        _err(f"{path}.days[{i}]", f"one of {', '.join(DAYS)}")
        for i, d in enumerate(days)
        if d not in DAYS
    ]
    return found + _times_errors(schedule, path)


def _monthly_errors(schedule, path):
    day, nth = schedule.get("day"), schedule.get("nth_weekday")
    if (day is None) == (nth is None):
        return [_err(path, 'give either day (1-31 or "last") or nth_weekday ([2, "tue"])')]
    found = []
    if day is not None and not (day == "last" or (isinstance(day, int) and 1 <= day <= 31)):
        found.append(_err(f"{path}.day", 'a day from 1 to 31, or "last"'))
    if nth is not None and not _valid_nth(nth):
        found.append(_err(f"{path}.nth_weekday", 'a pair such as [2, "tue"] (n: 1 to 5 or -1)'))
    return found + _times_errors(schedule, path)


def _valid_nth(nth):
    return (
        isinstance(nth, list)
        and len(nth) == 2
        and nth[0] in (1, 2, 3, 4, 5, -1)
        and not isinstance(nth[0], bool)
        and nth[1] in DAYS
    )


def _every_errors(schedule, path):
    try:
        interval = durations.parse(schedule.get("interval"), path=f"{path}.interval")
    except durations.DurationError as exc:
        return [_err(exc.path, exc.message)]
    minimum = durations.parse(settings.SCHEDULE_MIN_INTERVAL)
    start = dt.datetime(2000, 1, 1)
    if start + interval < start + minimum:
        message = f"at least {settings.SCHEDULE_MIN_INTERVAL} (SCHEDULE_MIN_INTERVAL)"
        return [_err(f"{path}.interval", message)]
    return []


def _cron_errors(schedule, path):
    expression = schedule.get("expression")
    if not isinstance(expression, str) or not croniter.is_valid(expression):
        return [_err(f"{path}.expression", 'a cron expression such as "0 9 * * mon-fri"')]
    return []


def _once_errors(schedule, path):
    try:
        dt.datetime.fromisoformat(schedule.get("at"))
    except (TypeError, ValueError):
        return [_err(f"{path}.at", "once needs an ISO 8601 date-time")]
    return []


CHECKS = {
    "once": _once_errors,
    "daily": _times_errors,
    "weekly": _weekly_errors,
    "monthly": _monthly_errors,
    "every": _every_errors,
    "cron": _cron_errors,
}


def _zone_errors(schedule, path):
    name = schedule.get("timezone")
    if not isinstance(name, str) or not name:
        return [_err(f"{path}.timezone", "a time zone such as Europe/Paris")]
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return [_err(f"{path}.timezone", f"unknown time zone {name!r}")]
    return []


def _window_errors(schedule, path, tz):
    bounds, found = {}, []
    for name in ("valid_from", "valid_until"):
        value = schedule.get(name)
        if value is None:
            continue
        try:
            bounds[name] = moment(value, tz)
        except (TypeError, ValueError):
            found.append(_err(f"{path}.{name}", "an ISO 8601 date-time"))
    if len(bounds) == 2 and bounds["valid_until"] <= bounds["valid_from"]:
        found.append(_err(f"{path}.valid_until", "must be after valid_from"))
    return found


def errors(schedule, path="schedule") -> list[dict]:
    if not isinstance(schedule, dict):
        return [_err(path, "must be an object")]
    frequency = schedule.get("frequency")
    if frequency not in FREQUENCIES:
        return [_err(f"{path}.frequency", f"one of {', '.join(FREQUENCIES)}")]
    found = _zone_errors(schedule, path)
    if found:
        return found
    found += _window_errors(schedule, path, zone(schedule))
    check = CHECKS.get(frequency)
    return found + (check(schedule, path) if check else [])


# --- launch times -----------------------------------------------------------------------------


def _clock_times(schedule):
    return sorted(dt.time(int(t[:2]), int(t[3:])) for t in schedule["times"])


def _nth_weekday(year, month, n, weekday):
    days = [d for d in calendar.Calendar().itermonthdates(year, month)]
    matching = [d for d in days if d.month == month and d.weekday() == weekday]
    if n == -1:
        return matching[-1]
    return matching[n - 1] if n <= len(matching) else None


def _month_day(schedule, year, month):
    last = calendar.monthrange(year, month)[1]
    if schedule.get("nth_weekday"):
        n, day = schedule["nth_weekday"]
        return _nth_weekday(year, month, n, DAYS.index(day))
    day = schedule["day"]
    return dt.date(year, month, last if day == "last" else min(day, last))


def _dates(schedule, start: dt.date) -> Iterator[dt.date]:
    """The local dates with launches, from ``start`` on."""
    frequency = schedule["frequency"]
    if frequency == "monthly":
        year, month = start.year, start.month
        while True:
            found = _month_day(schedule, year, month)
            if found is not None and found >= start:
                yield found
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    wanted = {DAYS.index(d) for d in schedule.get("days", DAYS)}
    for offset in itertools.count():
        day = start + dt.timedelta(days=offset)
        if frequency == "daily" or day.weekday() in wanted:
            yield day


def _wall_clock(schedule, after_local: dt.datetime) -> Iterator[dt.datetime]:
    """Naive local launch times from the day before ``after_local`` on (placing may move
    them)."""
    frequency = schedule["frequency"]
    if frequency == "cron":
        cron = croniter(schedule["expression"], after_local - dt.timedelta(days=1))
        while True:
            yield cron.get_next(dt.datetime)
    times = _clock_times(schedule)
    for day in _dates(schedule, after_local.date() - dt.timedelta(days=1)):
        for clock in times:
            yield dt.datetime.combine(day, clock)


def _raw(schedule, after, anchor, tz) -> Iterator[dt.datetime]:
    frequency = schedule["frequency"]
    if frequency in ("asap", "signal"):
        return
    if frequency == "once":
        yield moment(schedule["at"], tz)
        return
    if frequency == "every":
        yield from _every(schedule, after, anchor, tz)
        return
    after_local = after.astimezone(tz).replace(tzinfo=None)
    for naive in _wall_clock(schedule, after_local):
        yield place(naive, tz)


def _every(schedule, after, anchor, tz):
    start = moment(schedule["valid_from"], tz) if schedule.get("valid_from") else anchor
    if start is None:
        return
    interval = durations.parse(schedule["interval"])
    current = start
    if not (interval.months or interval.years) and current <= after:
        step = dt.timedelta(
            days=interval.days, hours=interval.hours, minutes=interval.minutes,
            seconds=interval.seconds, weeks=0,
        )  # fmt: skip
        current += step * ((after - current) // step)
    while current <= after:  # calendar units (mo, y) step on the calendar
        current = (current + interval).astimezone(UTC)
    yield from _stepping(current, interval)


def _stepping(current, interval):
    while True:
        yield current
        current = (current + interval).astimezone(UTC)


def launches(schedule, *, after, anchor=None) -> Iterator[dt.datetime]:
    """Launch instants strictly after ``after`` within the validity window, each once."""
    tz = zone(schedule)
    begin = moment(schedule["valid_from"], tz) if schedule.get("valid_from") else None
    end = moment(schedule["valid_until"], tz) if schedule.get("valid_until") else None
    horizon = after + dt.timedelta(days=HORIZON_DAYS)
    last = None
    for instant in _raw(schedule, after, anchor, tz):
        if instant > horizon or (end is not None and instant > end):
            return
        if instant <= after or instant == last or (begin is not None and instant < begin):
            continue
        last = instant
        yield instant


def next_launches(schedule, *, after, count=5, anchor=None) -> list[dt.datetime]:
    return list(itertools.islice(launches(schedule, after=after, anchor=anchor), count))
