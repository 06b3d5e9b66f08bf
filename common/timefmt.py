"""One date format for the staff pages: a relative time to read, the exact one (seconds, zone) on hover.

``webhooks_project/templatetags/staff_format.py``'s ``staff_time`` filter is this for templates;
admin columns written in Python call ``staff_time_html`` directly.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

RELATIVE_FOR = dt.timedelta(days=7)


def exact_time(value: dt.datetime) -> str:
    """``2026-12-07 10:58:57 UTC``: the page's time zone, with seconds."""
    local = timezone.localtime(value)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def relative_time(value: dt.datetime, *, now: dt.datetime | None = None) -> str:
    """ "just now", "9 min ago", "in 3 h", "2 days ago"; beyond a week the date and minute."""
    now = now or timezone.now()
    seconds = (value - now).total_seconds()
    if abs(seconds) >= RELATIVE_FOR.total_seconds():
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    size = abs(seconds)
    if size < 45:
        return _("just now")
    if size < 90 * 60:
        amount = ngettext("%(n)d min", "%(n)d min", round(size / 60)) % {"n": round(size / 60)}
    elif size < 36 * 3600:
        amount = ngettext("%(n)d h", "%(n)d h", round(size / 3600)) % {"n": round(size / 3600)}
    else:
        amount = ngettext("%(n)d day", "%(n)d days", round(size / 86400)) % {"n": round(size / 86400)}
    return (_("in %(amount)s") if seconds > 0 else _("%(amount)s ago")) % {"amount": amount}


def staff_time_html(value: dt.datetime | None, *, now: dt.datetime | None = None) -> str:
    if value is None:
        return "-"
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', value.isoformat(), exact_time(value), relative_time(value, now=now)
    )
