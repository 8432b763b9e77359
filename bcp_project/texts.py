"""Sentences that are stored and read later, by someone who may read another language.

A module that builds its sentences with these `gettext`/`ngettext` (imported as `_` and `ngettext`, so that
makemessages still finds them) gets strings that read as usual in the language active now, and that also remember
their message id and parameters. `message_data(text)` gives that as JSON (stored, e.g., in a rehearsal's report);
`message_render(data)` says it again in the language active when it is read. A parameter is kept as it was given
(names, times, counts): only the sentence around it is translated again."""

from django.utils.translation import gettext as _gettext
from django.utils.translation import ngettext as _ngettext


def _plain(value):
    return value if isinstance(value, int | float) else str(value)


class Message(str):
    """A translated sentence that knows its message id (a str subclass, so it is used as the sentence itself)."""

    data: dict

    def __new__(cls, text: str, data: dict):
        self = super().__new__(cls, text)
        self.data = data
        return self

    def __mod__(self, params):
        if not isinstance(params, dict):
            return str.__mod__(self, params)
        return Message(str.__mod__(self, params), {**self.data, "params": {k: _plain(v) for k, v in params.items()}})

    def __add__(self, other):
        if not isinstance(other, str):
            return NotImplemented
        return Message(str.__add__(self, other), {"parts": [message_data(self), message_data(other)]})

    def __radd__(self, other):
        if not isinstance(other, str):
            return NotImplemented
        return Message(str.__add__(other, self), {"parts": [message_data(other), message_data(self)]})


def gettext(message: str) -> Message:
    return Message(_gettext(message), {"msgid": message})


def ngettext(singular: str, plural: str, count: int) -> Message:
    return Message(_ngettext(singular, plural, count), {"msgid": singular, "plural": plural, "count": count})


def message_data(text) -> dict | str:
    """What to store: the message id and parameters of a Message, or the text itself for any other string."""
    return text.data if isinstance(text, Message) else str(text)


def message_render(data) -> str:
    """A stored Message in the language active now; a stored plain text (an old row) as it is."""
    if isinstance(data, str) or data is None:
        return data or ""
    if "parts" in data:
        return "".join(message_render(part) for part in data["parts"])
    if "plural" in data:
        text = _ngettext(data["msgid"], data["plural"], data.get("count", 0))
    else:
        text = _gettext(data["msgid"])
    params = data.get("params")
    if not params:
        return text
    try:
        return text % params
    except (KeyError, TypeError, ValueError):  # a catalogue that does not fit its message: the English
        return data["msgid"] % params


def join(separator: str, texts) -> str:
    """`separator.join(texts)` that stays a Message (its parts remembered) when any of them is one."""
    texts = list(texts)
    if not any(isinstance(text, Message) for text in texts):
        return separator.join(texts)
    parts = []
    for index, text in enumerate(texts):
        if index:
            parts.append(separator)
        parts.append(message_data(text))
    return Message(separator.join(texts), {"parts": parts})
