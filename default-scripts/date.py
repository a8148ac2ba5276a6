# ---
# title: Date
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
# params:
#   date: str, position 0, optional -- an ISO 8601 date (YYYY-MM-DD[THH:MM...]); default the post's
#   format: str, default "%-d %B %Y" -- strftime-like: %Y %m %d %B %A %H %M %-d ...
# ---
"""A date in a ``<time>`` element, formatted with strftime-like directives.

Usage: ``{{< date >}}`` (the post's date), ``{{< date 2024-03-05 >}}`` or
``{{< date date="2024-03-05T14:30:00+01:00" format="%A %-d %B %Y, %H:%M" >}}``.

Parameters:
    date (str, or the first positional argument, default the post's date): an ISO 8601 date,
        ``YYYY-MM-DD``, optionally followed by ``THH:MM[:SS[.fraction]]`` and ``Z`` or ``±HH:MM``.
    format (str, default "%-d %B %Y"): how to show it. Directives: ``%Y`` year, ``%y`` year
        in two digits, ``%m`` month, ``%d`` day, ``%e`` day padded with a space, ``%j`` day of
        the year, ``%B``/``%b`` month name, full/short, ``%A``/``%a`` weekday name, full/short,
        ``%u`` weekday 1-7 (Monday is 1), ``%w`` weekday 0-6 (Sunday is 0), ``%H`` hour (24 h),
        ``%I`` hour (12 h), ``%p`` AM/PM, ``%M`` minute, ``%S`` second, ``%z`` UTC offset
        (``+0100``, empty without one), ``%%`` a percent sign. ``%-d`` (also ``-m``, ``-H``,
        ``-I``, ``-M``, ``-S``, ``-j``) drops the leading zero.

Names are English and computed here, not by ``time.strftime``, so the output never depends on
the machine's locale or on the interpreter.
"""
import datetime
import html
import re

ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?",
    re.IGNORECASE,
)
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DIRECTIVE = re.compile(r"%(-?)(.)?", re.DOTALL)
UNPADDED = set("dmHIMSj")


def days_in_month(year, month):
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def parse(value):
    found = ISO.fullmatch(value)
    if not found:
        raise ValueError(f"not an ISO 8601 date (YYYY-MM-DD, optionally with a time): {value!r}")
    year, month, day = int(found.group(1)), int(found.group(2)), int(found.group(3))
    hour = int(found.group(4) or 0)
    minute = int(found.group(5) or 0)
    second = int(found.group(6) or 0)
    offset = found.group(8)
    if (
        year < 1
        or not 1 <= month <= 12
        or not 1 <= day <= days_in_month(year, month)
        or hour > 23
        or minute > 59
        or second > 59
    ):
        raise ValueError(f"no such date or time: {value!r}")
    if offset is None:
        zone = ""
    elif offset.upper() == "Z":
        zone = "+0000"
    else:
        zone = offset.replace(":", "")
        if int(zone[1:3]) > 23 or int(zone[3:5]) > 59:
            raise ValueError(f"no such UTC offset: {offset!r}")
    # The weekday comes from the proleptic Gregorian calendar, as datetime computes it.
    weekday = datetime.date(year, month, day).weekday()
    day_of_year = sum(days_in_month(year, m) for m in range(1, month)) + day
    return {
        "Y": f"{year:04d}",
        "y": f"{year % 100:02d}",
        "m": f"{month:02d}",
        "d": f"{day:02d}",
        "e": f"{day:2d}",
        "j": f"{day_of_year:03d}",
        "B": MONTHS[month - 1],
        "b": MONTHS[month - 1][:3],
        "A": WEEKDAYS[weekday],
        "a": WEEKDAYS[weekday][:3],
        "u": str(weekday + 1),
        "w": str((weekday + 1) % 7),
        "H": f"{hour:02d}",
        "I": f"{(hour % 12) or 12:02d}",
        "p": "AM" if hour < 12 else "PM",
        "M": f"{minute:02d}",
        "S": f"{second:02d}",
        "z": zone,
        "%": "%",
    }


def strftime(fields, fmt):
    def replace(found):
        unpadded, letter = found.group(1), found.group(2)
        if letter is None:
            raise ValueError("format ends with a lone %")
        if letter not in fields or (unpadded and letter not in UNPADDED):
            raise ValueError(f"unsupported directive %{unpadded}{letter} in format {fmt!r}")
        value = fields[letter]
        return (value.lstrip("0") or "0") if unpadded else value

    return DIRECTIVE.sub(replace, fmt)


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    post = context.get("post") or {}
    raw = params.get("date", args[0] if args else None)
    if raw is None:
        raw = post.get("date") if isinstance(post, dict) else None
    if raw is None:
        raise ValueError("date needs a date: {{< date 2024-03-05 >}} (or a post with a date)")
    if not isinstance(raw, str):
        raise ValueError(f"date must be an ISO 8601 date like 2024-03-05, not {raw!r}")
    value = raw.strip()
    fmt = params.get("format", "%-d %B %Y")
    if not isinstance(fmt, str):
        raise ValueError(f"format must be text, not {fmt!r}")
    shown = strftime(parse(value), fmt)
    return {"html": f'<time datetime="{html.escape(value)}">{html.escape(shown)}</time>'}
