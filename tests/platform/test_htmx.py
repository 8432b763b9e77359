"""One decision says whether a request wants a partial: the views' render helper and the templates read it."""

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.forms import Form, IntegerField
from django.template.loader import render_to_string
from django.test import RequestFactory
from django_htmx.middleware import HtmxMiddleware

from bcp_project.context_processors import htmx
from bcp_project.htmx import is_partial

PLAIN = {}
HTMX = {"HTTP_HX_REQUEST": "true"}
BOOSTED = {**HTMX, "HTTP_HX_BOOSTED": "true"}
HISTORY_RESTORE = {**HTMX, "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}


def _request(headers):
    request = RequestFactory().get("/", **headers)
    HtmxMiddleware(lambda r: None)(request)
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


@pytest.mark.parametrize(("headers", "partial"), [(PLAIN, False), (HTMX, True), (BOOSTED, False),
                                                  (HISTORY_RESTORE, False)])
def test_the_templates_get_the_views_decision(headers, partial):
    request = _request(headers)
    assert is_partial(request) is partial
    assert htmx(request) == {"is_partial": partial}


@pytest.mark.parametrize(("headers", "out_of_band"), [(PLAIN, False), (HTMX, True), (BOOSTED, False)])
def test_messages_go_out_of_band_only_with_a_partial(headers, out_of_band):
    html = render_to_string("includes/messages.html", request=_request(headers))
    assert ('hx-swap-oob="true"' in html) is out_of_band


class _Filter(Form):
    page = IntegerField(label="Page")


@pytest.mark.parametrize(("headers", "shown"), [(PLAIN, False), (HTMX, True), (BOOSTED, False)])
def test_a_partial_carries_the_filter_errors_a_whole_page_shows_on_its_form(headers, shown):
    form = _Filter({"page": "x"})
    html = render_to_string("includes/filter_errors.html", {"form": form}, request=_request(headers))
    assert ("Page: Enter a whole number." in html) is shown
