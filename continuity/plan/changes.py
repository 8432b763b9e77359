"""What one change did to the plan, as its PlanVersion records it.

A PlanVersion's `changes` are {"section": section key, "item": the item's name, "field": a field key of
sections.SECTIONS (or "name", "position"), "old": text, "new": text}: keys, not labels, so that the history reads
in its reader's language. Its `summary` is one sentence in the language of whoever made the change.
"""

from dataclasses import dataclass

from django.db.models import Model
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from ..models import PlanVersion
from .sections import Section, field_label

UP, DOWN = "up", "down"
_SUMMARY_LENGTH = PlanVersion._meta.get_field("summary").max_length


@dataclass
class Subject:
    """What a change is about, for its summary and audit event."""

    section: Section
    obj: Model | None = None
    name: str = ""


def _steps_text(steps: list[dict]) -> str:
    lines = []
    for number, step in enumerate(steps, start=1):
        who = f" ({step['team']})" if step.get("team") else ""
        lines.append(f"{number}. {step['text']}{who}")
    return "\n".join(lines)


def _text(value) -> str:
    return _steps_text(value) if isinstance(value, list) else str(value)


def snapshot_changes(before: dict, after: dict, *, subject_id: int | None, subject_key: str) -> list[dict]:
    """What differs between two snapshots, item by item: new and removed items with their non-empty fields,
    changed fields of the others, and the subject's own move (the others only shift because of it)."""
    changes = []
    for section_key, new_items in after["sections"].items():
        old_items = before["sections"].get(section_key, [])
        old_by_id = {item["id"]: (index, item) for index, item in enumerate(old_items, start=1)}
        new_ids = set()
        for index, item in enumerate(new_items, start=1):
            new_ids.add(item["id"])
            found = old_by_id.get(item["id"])
            if found is None:
                changes.append({"section": section_key, "item": item["name"], "field": "name", "old": "",
                                "new": item["name"]})
                changes += [{"section": section_key, "item": item["name"], "field": field, "old": "",
                             "new": _text(value)} for field, value in item["values"].items() if value]
                continue
            old_index, old = found
            if old["name"] != item["name"]:
                changes.append({"section": section_key, "item": item["name"], "field": "name", "old": old["name"],
                                "new": item["name"]})
            for field, value in item["values"].items():
                was = old["values"].get(field, "")
                if was != value:
                    changes.append({"section": section_key, "item": item["name"], "field": field, "old": _text(was),
                                    "new": _text(value)})
            if old_index != index and item["id"] == subject_id and section_key == subject_key:
                changes.append({"section": section_key, "item": item["name"], "field": "position",
                                "old": str(old_index), "new": str(index)})
        for item in old_items:
            if item["id"] not in new_ids:
                changes.append({"section": section_key, "item": item["name"], "field": "name", "old": item["name"],
                                "new": ""})
                changes += [{"section": section_key, "item": item["name"], "field": field, "old": _text(value),
                             "new": ""} for field, value in item["values"].items() if value]
    return changes


def change_summary(verb: str, subject: Subject, changes: list[dict], direction: str = "") -> str:
    section = subject.section
    params = {"item": section.model._meta.verbose_name, "name": subject.name}
    if verb == "created":
        text = _("Added %(item)s “%(name)s”") % params
    elif verb == "deleted":
        text = _("Removed %(item)s “%(name)s”") % params
    elif verb == "moved":
        text = (_("Moved %(item)s “%(name)s” up") if direction == UP else _("Moved %(item)s “%(name)s” down")) % params
    else:
        own = [c["field"] for c in changes if c["section"] == section.key and c["item"] == subject.name]
        if not own:  # a rename: the item's entries carry its new name
            own = [c["field"] for c in changes if c["section"] == section.key]
        labels = list(dict.fromkeys(field_label(section, field) for field in own))
        text = _("Changed %(item)s “%(name)s”: %(fields)s") % {**params, "fields": ", ".join(labels)}
    text = capfirst(text)
    return text if len(text) <= _SUMMARY_LENGTH else text[:_SUMMARY_LENGTH - 1] + "…"
