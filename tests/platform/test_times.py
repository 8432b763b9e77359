"""One time format everywhere: the zone always said, the age first where it matters."""

from datetime import UTC, datetime, timedelta

from django.template import Context, Template
from django.utils import translation

from bcp_project.templatetags.times import age_text, ago_text, when_text

NOW = datetime(2026, 12, 6, 14, 14, 30, tzinfo=UTC)


def test_when_says_the_zone_and_marks_the_instant():
    html = Template("{% load times %}{{ t|when }}|{{ t|when:'seconds' }}|{{ none|when }}").render(
        Context({"t": datetime(2026, 12, 6, 5, 56, 7, tzinfo=UTC), "none": None}))
    assert html == ('<time datetime="2026-12-06T05:56:07+00:00">2026-12-06 05:56 UTC</time>|'
                    '<time datetime="2026-12-06T05:56:07+00:00">2026-12-06 05:56:07 UTC</time>|')


def test_ago_gives_the_age_then_the_clock():
    assert ago_text(NOW - timedelta(minutes=12), now=NOW) == "12 minutes ago, 14:02 UTC"
    assert ago_text(NOW - timedelta(seconds=20), now=NOW) == "just now, 14:14 UTC"
    assert ago_text(NOW - timedelta(hours=1, minutes=5), now=NOW) == "1 hour ago, 13:09 UTC"
    # Not today: the date is said too.
    assert ago_text(NOW - timedelta(days=2), now=NOW) == "2 days ago, 2026-12-04 14:14 UTC"
    assert age_text(NOW + timedelta(minutes=5), now=NOW) == "in 5 minutes"


def test_times_read_in_german():
    with translation.override("de"):
        assert ago_text(NOW - timedelta(minutes=12), now=NOW) == "vor 12 Minuten, 14:02 UTC"
        assert age_text(NOW - timedelta(days=1), now=NOW) == "vor 1 Tag"
        assert when_text(NOW) == "2026-12-06 14:14 UTC"
