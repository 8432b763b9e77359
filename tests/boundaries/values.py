"""Boundary values for a form field, chosen by the field's type and its own limits, so that a new field (or a
changed limit) is covered without editing the test.

Each value is (label, what the browser sends). The form may refuse a value (it must then say why, next to the
field, in a 4xx) or accept it (then every page that shows it must render).
"""

from django import forms

LONG_TEXT = 4_500  # a text field without a limit gets texts this long: past the ~4,100 characters of issue 15's PDF

# Texts that have broken renderers elsewhere; each is short, so that it fits every field.
CONTROL = "tab\there\x07bell\x1b[31mesc\x7fdel\x0bvt\x0cff"
RTL_COMBINING = "\u202eשלום عليكم\u202c Z\u0351\u0300\u0301\u0302\u0303\u0304e\u0301\u200d\u200f"
EMOJI = "👩‍👩‍👧‍👦 🏳️‍🌈 🇩🇪 𝕭𝖈𝖕 \U0001f600"
MARKUP = "<b>bold</b> & &amp; {{ x }} {% y %} <script>alert(1)</script> \"'`"
NUL = "nul\x00byte"
BIDI_ISOLATES = "\u2066\u2067\u2068\u2069\u061c"
SURROGATE_LOOKALIKE = "\ufeff\ufffe\uffff"


def _fill(length: int, unit: str) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def text_values(limit: int | None) -> list[tuple[str, str]]:
    n = limit or LONG_TEXT
    values = [
        (f"longest ({n} characters)", _fill(n, "x")),
        (f"{n} characters of words and lines", _fill(n, "word ğ € – “quoted” and\r\nnext line ")),
        (f"{n} characters without a space", _fill(n, "Ünbreakable")),
        *([(f"{n} emoji", _fill(n, "😀"))] if limit else []),  # (a long text of them is the words' case again)
        ("control characters", CONTROL),
        ("right-to-left and combining", RTL_COMBINING),
        ("emoji", EMOJI),
        ("markup", MARKUP),
        ("NUL", NUL),
        ("bidi isolates and BOM", BIDI_ISOLATES + SURROGATE_LOOKALIKE),
        ("only spaces", "   \u00a0\u3000"),
    ]
    if limit:
        values.append((f"one past the limit ({n + 1})", _fill(n + 1, "y")))
    return values


def email_values() -> list[tuple[str, str]]:
    local, label = "l" * 64, "d" * 63
    longest = f"{local}@{label}.{label}.{label}.{'e' * (254 - 64 - 1 - 3 * 64)}"[:254]
    return [("longest address (254)", longest), ("unicode domain", "ünï@bücher.example"),
            ("emoji local part", "😀@example.com"), ("RTL", "\u202etest@example.com"), ("NUL", "a\x00@example.com"),
            ("one past the limit", longest + "x"), ("not an address", "no at sign")]


def integer_values(field: forms.IntegerField) -> list[tuple[str, str]]:
    low = field.min_value if field.min_value is not None else -(2**31)
    high = field.max_value if field.max_value is not None else 2**31 - 1
    return [("smallest", str(low)), ("largest", str(high)), ("one below", str(low - 1)), ("one above", str(high + 1)),
            ("past 64 bits", str(2**63)), ("below 64 bits", str(-(2**63) - 1)), ("huge", "9" * 400),
            ("not a number", "1e309"), ("full-width digits", "１２")]


def date_values() -> list[tuple[str, str]]:
    return [("far past", "0001-01-01"), ("far future", "9999-12-31"), ("year 10000", "10000-01-01"),
            ("epoch eve", "1969-12-31"), ("leap day", "2024-02-29"), ("no such day", "2023-02-29"),
            ("not a date", "\u202e2024-01-01")]


def time_values() -> list[tuple[str, str]]:
    return [("midnight", "00:00"), ("last instant", "23:59:59.999999"), ("24:00", "24:00"), ("not a time", "25:61")]


def choice_values(field: forms.ChoiceField) -> list[tuple[str, object]]:
    keys = [str(k) for k, _label in field.choices if str(k) != "" and not isinstance(_label, (list, tuple))]
    multiple = isinstance(field, forms.MultipleChoiceField)
    values = [(f"choice {k}", [k] if multiple else k) for k in keys[:6]]
    if multiple and keys:
        values.append(("every choice", keys))
    values.append(("no such choice", ["\x00nope"] if multiple else "nope\u202e"))
    return values


def model_choice_values(field: forms.ModelChoiceField) -> list[tuple[str, object]]:
    multiple = isinstance(field, forms.ModelMultipleChoiceField)
    pks = [str(pk) for pk in field.queryset.values_list("pk", flat=True)[:50]]
    values = []
    if pks:
        values += [("first", [pks[0]] if multiple else pks[0]), ("last", [pks[-1]] if multiple else pks[-1])]
    if multiple and pks:
        values.append(("all", pks))
    bad = [("id past 64 bits", str(2**63)), ("negative id", "-1"), ("not an id", "1\u202e")]
    values += [(label, [value] if multiple else value) for label, value in bad]
    return values


def boundary_values(field: forms.Field) -> list[tuple[str, object]]:
    """The values to try in this field; [] for a field the generic generator does not know (a file)."""
    if isinstance(field, forms.BooleanField):
        return [("ticked", "on"), ("unticked", None)]
    if isinstance(field, forms.ModelChoiceField):  # ModelMultipleChoiceField included
        return model_choice_values(field)
    if isinstance(field, forms.ChoiceField):  # TypedChoiceField, MultipleChoiceField included
        return choice_values(field)
    if isinstance(field, forms.DateTimeField):
        return [(label, f"{value} 00:00") for label, value in date_values()]
    if isinstance(field, forms.DateField):
        return date_values()
    if isinstance(field, forms.TimeField):
        return time_values()
    if isinstance(field, forms.IntegerField):
        return integer_values(field)
    if isinstance(field, forms.EmailField):
        return email_values()
    if isinstance(field, forms.FileField):
        return []
    if isinstance(field, forms.CharField):
        return text_values(field.max_length)
    raise AssertionError(f"No boundary values for a {type(field).__name__}: add them to tests/boundaries/values.py")
