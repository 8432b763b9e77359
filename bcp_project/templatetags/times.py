"""The one way a time is shown: `{{ value|when }}` gives "2026-12-06 14:02 UTC", `{{ value|ago }}` gives
"12 minutes ago, 14:02 UTC" where the age matters (older than a day: the date too). Both say the zone, and both
wrap the text in <time datetime="…"> so a screen reader and a script see the exact instant. Times are kept and
shown in UTC (settings.TIME_ZONE): the people of one pair sit in different regions, and a shared zone is what
lets them compare what they see."""

from datetime import UTC, date, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


def _utc(value) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value.astimezone(UTC)


def when_text(value, *, seconds: bool = False) -> str:
    """ "2026-12-06 14:02 UTC" (with seconds when asked), or "" for no time."""
    moment = _utc(value)
    if moment is None:
        return value.isoformat() if isinstance(value, date) else ""
    return _("%(time)s UTC") % {"time": moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")}


def age_text(value, *, now: datetime | None = None) -> str:
    """ "just now", "12 minutes ago", "3 hours ago", "2 days ago"; "in 5 minutes" for a time still to come."""
    moment = _utc(value)
    if moment is None:
        return ""
    seconds = int(((now or timezone.now()) - moment).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        return _("just now")
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days:
        text = ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    elif hours:
        text = ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    else:
        text = ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    return (_("in %(age)s") if future else _("%(age)s ago")) % {"age": text}


def ago_text(value, *, now: datetime | None = None) -> str:
    """ "12 minutes ago, 14:02 UTC"; with the date when it was not today."""
    moment = _utc(value)
    if moment is None:
        return ""
    now = now or timezone.now()
    clock = (moment.strftime("%H:%M") if moment.date() == now.astimezone(UTC).date()
             else moment.strftime("%Y-%m-%d %H:%M"))
    return _("%(age)s, %(time)s UTC") % {"age": age_text(moment, now=now), "time": clock}


def _time_element(value, text: str):
    moment = _utc(value)
    if moment is None:
        return text
    return format_html('<time datetime="{}">{}</time>', moment.isoformat(timespec="seconds"), text)


@register.filter
def when(value, arg: str = ""):
    """A time with its zone: `{{ run.finished_at|when }}`; `|when:"seconds"` adds the seconds."""
    if value in (None, ""):
        return ""
    return _time_element(value, when_text(value, seconds=arg == "seconds"))


@register.filter(name="when_text")
def when_plain(value):
    """The same text as `|when` without the <time> element, for where no markup may go (a page's <title>)."""
    if value in (None, ""):
        return ""
    return when_text(value)


@register.filter
def ago(value):
    """A time with its age first: `{{ run.as_of|ago }}` → "12 minutes ago, 14:02 UTC"."""
    if value in (None, ""):
        return ""
    return _time_element(value, ago_text(value))
