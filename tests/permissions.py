"""The personas, and the one shape of every persona table: which URL, asked how, answers each persona what.

A table is a list of Row named URLS in the test file of its app, beside the pages it tests. Its test runs it with
two helpers:

    @pytest.mark.parametrize(("row", "persona"), cases(URLS))
    def test_every_sync_url_for_every_persona(as_persona, row, persona):
        ask(as_persona(persona), row, persona)

tests/test_url_coverage.py reads the same tables to prove that every named URL has a row.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest
from django.http import HttpResponse
from django.urls import reverse

# An account representative, a tenant's agent, supervisor and administrator, the administrator of another tenant,
# and an anonymous visitor: tests/conftest.py has a fixture of each name.
PERSONAS = ["anonymous", "agent", "supervisor", "tenant_admin", "other_admin", "rep"]

GET, POST = "get", "post"
OK, REDIRECT, BAD_REQUEST, FORBIDDEN, NOT_FOUND, NOT_ALLOWED, CONFLICT = 200, 302, 400, 403, 404, 405, 409


@dataclass(frozen=True)
class Row:
    """One URL asked one way, and the status code each persona gets (302: sent elsewhere, see ask)."""

    name: str  # the URL name, as reverse() takes it: "sync:history"
    method: str  # GET or POST
    answers: Mapping[str, int]  # persona -> status code; a persona left out is not asked by this row
    given: str = ""  # what the page needs first or its path names, in the words of the table's own test
    data: Mapping = field(default_factory=dict)  # the form data (or a GET's query) sent with it


def answers(anonymous, agent, supervisor, tenant_admin, other_admin, rep) -> dict[str, int]:
    """The answers in the order of PERSONAS; None for a persona the row does not ask (its test says why)."""
    given = dict(zip(PERSONAS, (anonymous, agent, supervisor, tenant_admin, other_admin, rep), strict=True))
    return {persona: status for persona, status in given.items() if status is not None}


def cases(table: Sequence[Row]) -> list:
    """Every (row, persona) of a table, for @pytest.mark.parametrize(("row", "persona"), cases(URLS))."""
    return [pytest.param(row, persona, id=f"{persona}-{row.method}-{row.name}{'-' + row.given if row.given else ''}")
            for row in table for persona in row.answers]


def ask(client, row: Row, persona: str, *, args: Sequence = (), data: Mapping | None = None,
        **extra) -> HttpResponse:
    """Ask the row's URL as the persona's client and check the answer the table gives for them.

    302 means sent elsewhere: a redirect, or for an htmx request htmx's own (a 200 with HX-Redirect). Whoever is
    not signed in is sent to sign in. `data` replaces the row's own when it depends on the test's fixtures; `extra`
    goes to the test client (headers).
    """
    response = getattr(client, row.method)(reverse(row.name, args=args), row.data if data is None else data,
                                           **extra)
    expected = row.answers[persona]
    if expected == REDIRECT and "HX-Redirect" in response:
        assert response.status_code == OK, response.content[:400]
    else:
        assert response.status_code == expected, response.content[:400]
    if persona == "anonymous" and response.status_code == REDIRECT:
        assert response["Location"].startswith(reverse("accounts:login") + "?next="), response["Location"]
    return response
