"""Counting queries in every database: a page's cost is its queries on the control plane and on regions."""

from contextlib import ExitStack, contextmanager

from django.db import connections
from django.test.utils import CaptureQueriesContext


class CaptureQueriesEverywhere:
    def __enter__(self):
        self._stack = ExitStack()
        self._contexts = [self._stack.enter_context(CaptureQueriesContext(connections[alias]))
                          for alias in connections]
        return self

    def __exit__(self, *exc):
        return self._stack.__exit__(*exc)

    @property
    def captured_queries(self) -> list[dict]:
        return [dict(query, alias=context.connection.alias) for context in self._contexts
                for query in context.captured_queries]

    def __len__(self) -> int:
        return sum(len(context) for context in self._contexts)

    def __iter__(self):
        return iter(self.captured_queries)

    def __getitem__(self, index):
        return self.captured_queries[index]


@contextmanager
def assert_queries(num: int, *, exact: bool = True, info=None):
    with CaptureQueriesEverywhere() as captured:
        yield captured
    count = len(captured)
    if (count != num) if exact else (count > num):
        sqls = "\n".join(f"{q['alias']}: {q['sql']}" for q in captured.captured_queries)
        expected = f"{num}" if exact else f"at most {num}"
        raise AssertionError(f"Expected {expected} queries in all databases, {count} were run"
                             f"{': ' + info if info else ''}:\n{sqls}")


@contextmanager
def capture_on_commit_everywhere(*, using=None, execute=False):
    """pytest-django's django_capture_on_commit_callbacks for every database at once (work that a commit starts
    is registered on the database of the change: a region's or the control plane)."""
    from django.test import TestCase

    aliases = [using] if using is not None else list(connections)
    callbacks: list = []
    stack = ExitStack()
    captured = [stack.enter_context(TestCase.captureOnCommitCallbacks(using=alias, execute=execute))
                for alias in aliases]
    try:
        yield callbacks
    finally:
        stack.close()
        for each in captured:
            callbacks.extend(each)
