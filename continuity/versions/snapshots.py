"""A snapshot of the plan as a reader sees it: laid out through plan.sections.SECTIONS, and what differs between
two snapshots.

A snapshot holds field keys and plain values (choice keys, ISO dates, minutes); labels, choice labels, dates and
durations are turned into text here, in the language of whoever reads, so an old version reads in theirs.
"""

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date

from django.utils.formats import date_format
from django.utils.translation import ngettext

from ..models import ActivationTrigger, Procedure
from ..plan.sections import SECTIONS, Section, field_label

# Fields whose snapshot value is a choice key, shown by its label.
_CHOICES = {
    (Procedure.ENTITY_TYPE, "kind"): Procedure.Kind,
    (ActivationTrigger.ENTITY_TYPE, "action"): ActivationTrigger.Action,
}
_DATES = {"last_reviewed"}
_MINUTES = {"recovery_time_goal"}
_STEPS = {"steps"}


# --- values as text -----------------------------------------------------------------------------------------

def duration_text(minutes: int) -> str:
    """60 -> "1 hour", 90 -> "1 hour 30 minutes", 2880 -> "2 days"."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(count)d day", "%(count)d days", days) % {"count": days})
    if hours:
        parts.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    if mins or not parts:
        parts.append(ngettext("%(count)d minute", "%(count)d minutes", mins) % {"count": mins})
    return " ".join(parts)


@dataclass(frozen=True)
class Step:
    number: int
    text: str
    team: str


def _steps(value) -> list[Step]:
    return [Step(number, str(step.get("text", "")), str(step.get("team", "")))
            for number, step in enumerate(value or [], start=1)]


def steps_text(steps: list[Step]) -> str:
    return "\n".join(f"{step.number}. {step.text}" + (f" ({step.team})" if step.team else "") for step in steps)


def value_text(section_key: str, key: str, value) -> str:
    """One snapshot value as a reader reads it; an empty value is ""."""
    if value in (None, "", []):
        return ""
    if key in _STEPS:
        return steps_text(_steps(value))
    choices = _CHOICES.get((section_key, key))
    if choices is not None:
        try:
            return str(choices(value).label)
        except ValueError:
            return str(value)  # a key from a newer or older release: better shown raw than hidden
    if key in _DATES:
        try:
            return date_format(date.fromisoformat(str(value)), "DATE_FORMAT")
        except ValueError:
            return str(value)
    if key in _MINUTES:
        try:
            return duration_text(int(value))
        except (TypeError, ValueError):
            return str(value)
    return str(value)


# --- a snapshot laid out --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldView:
    key: str
    label: str
    text: str  # "" when empty
    steps: list[Step] = field(default_factory=list)  # the procedure's steps, when the field is "steps"

    @property
    def is_steps(self) -> bool:
        return self.key in _STEPS


@dataclass(frozen=True)
class ItemView:
    id: int
    name: str
    fields: list[FieldView]


@dataclass(frozen=True)
class SectionView:
    key: str
    title: str
    intro: str
    items: list[ItemView]


def _item_view(section: Section, item: dict) -> ItemView:
    values = item.get("values", {})
    fields = []
    for key, label in section.fields:
        value = values.get(key, "")
        fields.append(FieldView(key=key, label=str(label), text=value_text(section.key, key, value),
                                steps=_steps(value) if key in _STEPS else []))
    return ItemView(id=item.get("id"), name=str(item.get("name", "")), fields=fields)


def snapshot_sections(snapshot: dict) -> list[SectionView]:
    """Every section of SECTIONS in order, with the snapshot's items (a section the snapshot lacks is empty)."""
    stored = (snapshot or {}).get("sections", {})
    return [SectionView(key=section.key, title=str(section.title), intro=str(section.intro),
                        items=[_item_view(section, item) for item in stored.get(section.key, [])])
            for section in SECTIONS]


def item_count(snapshot: dict) -> int:
    return sum(len(items) for items in (snapshot or {}).get("sections", {}).values())


# --- comparing two snapshots ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldChange:
    key: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class ItemChange:
    id: int
    name: str  # the newer name
    old_name: str
    fields: list[FieldChange]


@dataclass(frozen=True)
class SectionDiff:
    key: str
    title: str
    added: list[ItemView]
    removed: list[ItemView]
    changed: list[ItemChange]

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def _moved(old_items: list[dict], new_items: list[dict]) -> dict[int, tuple[int, int]]:
    """The fewest items that moved: id -> (old position, new position). The items both snapshots share keep
    their order except for the ones outside the longest run that kept it; adding or removing an item shifts the
    others, which is no move of theirs."""
    old_ids = {item["id"] for item in old_items}
    new_ids = {item["id"] for item in new_items}
    old_rank = {item_id: rank for rank, item_id in enumerate(i["id"] for i in old_items if i["id"] in new_ids)}
    shared = [item["id"] for item in new_items if item["id"] in old_ids]
    ranks = [old_rank[item_id] for item_id in shared]
    # Longest increasing subsequence of the old ranks in the new order (patience sorting).
    tails: list[int] = []  # index into `ranks` of the smallest tail of each length
    previous = [-1] * len(ranks)
    for index, rank in enumerate(ranks):
        length = bisect_left([ranks[t] for t in tails], rank)
        if length:
            previous[index] = tails[length - 1]
        if length == len(tails):
            tails.append(index)
        else:
            tails[length] = index
    kept = set()
    index = tails[-1] if tails else -1
    while index != -1:
        kept.add(shared[index])
        index = previous[index]
    old_position = {item["id"]: number for number, item in enumerate(old_items, start=1)}
    new_position = {item["id"]: number for number, item in enumerate(new_items, start=1)}
    return {item_id: (old_position[item_id], new_position[item_id]) for item_id in shared if item_id not in kept}


def compare(old: dict, new: dict) -> list[SectionDiff]:
    """Per section of SECTIONS, what `new` added, removed and changed against `old`. Items are matched by their
    id, so a renamed item is a change of its name, not a removal and an addition."""
    old_sections = (old or {}).get("sections", {})
    new_sections = (new or {}).get("sections", {})
    diffs = []
    for section in SECTIONS:
        old_items = old_sections.get(section.key, [])
        new_items = new_sections.get(section.key, [])
        old_by_id = {item["id"]: item for item in old_items}
        new_by_id = {item["id"]: item for item in new_items}
        moved = _moved(old_items, new_items)
        added = [_item_view(section, item) for item in new_items if item["id"] not in old_by_id]
        removed = [_item_view(section, item) for item in old_items if item["id"] not in new_by_id]
        changed = []
        for item in new_items:
            before = old_by_id.get(item["id"])
            if before is None:
                continue
            fields = []
            if before.get("name", "") != item.get("name", ""):
                fields.append(FieldChange("name", field_label(section, "name"), str(before.get("name", "")),
                                          str(item.get("name", ""))))
            if item["id"] in moved:
                was, now = moved[item["id"]]
                fields.append(FieldChange("position", field_label(section, "position"), str(was), str(now)))
            for key, label in section.fields:
                was = before.get("values", {}).get(key, "")
                now = item.get("values", {}).get(key, "")
                if was != now:
                    fields.append(FieldChange(key, str(label), value_text(section.key, key, was),
                                              value_text(section.key, key, now)))
            if fields:
                changed.append(ItemChange(id=item["id"], name=str(item.get("name", "")),
                                          old_name=str(before.get("name", "")), fields=fields))
        diffs.append(SectionDiff(key=section.key, title=str(section.title), added=added, removed=removed,
                                 changed=changed))
    return diffs


def has_differences(diffs: list[SectionDiff]) -> bool:
    return any(diff.has_changes for diff in diffs)
