"""The plan as a reader sees it: one edition of it (the current plan, an older version, or the copy the sync made
on a BCP tenant), its snapshot laid out through sections.SECTIONS, and what differs between two snapshots.

A snapshot holds field keys and plain values (choice keys, ISO dates, minutes); labels, choice labels, dates and
durations are turned into text here, in the language of whoever reads, so an old version reads in theirs.
"""

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, datetime

from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sync.models import SyncRun
from tenants.models import BcpMapping

from .models import ActivationTrigger, Plan, PlanVersion, Procedure
from .sections import SECTIONS, Section
from .selectors import plan_snapshot

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


def when_text(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def field_label(section: Section, key: str) -> str:
    if key == "name":
        return _("Name")
    if key == "position":
        return _("Position")
    return str(dict(section.fields).get(key, key))


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


# --- versions and editions --------------------------------------------------------------------------------------

def version_list(*, tenant):
    """The tenant's versions, newest first, without their (large) snapshots."""
    return (PlanVersion.objects.filter(tenant=tenant).defer("snapshot", "changes")
            .order_by("-number"))


def version_get(*, tenant, number) -> PlanVersion:
    """One version of the tenant's plan; a number it does not have is a 404."""
    version = PlanVersion.objects.filter(tenant=tenant, number=number).first()
    if version is None:
        raise Http404
    return version


@dataclass(frozen=True)
class Edition:
    """The plan as one reader opens it: the current plan, an older version, or the BCP tenant's synced copy."""

    tenant: object
    snapshot: dict
    number: int | None = None  # the version; None for a synced copy and for a plan nobody started
    created_at: datetime | None = None  # when that version was made
    is_current: bool = True
    copied_from: object = None  # the primary tenant, when this is the copy the sync made on its BCP tenant
    copied_at: datetime | None = None  # the end of the last successful sync run
    version: PlanVersion | None = None

    @property
    def is_copy(self) -> bool:
        return self.copied_from is not None

    @property
    def sections(self) -> list[SectionView]:
        return snapshot_sections(self.snapshot)

    @property
    def is_empty(self) -> bool:
        return item_count(self.snapshot) == 0

    @property
    def line(self) -> str:
        """Which plan this is, in one line for the header of every page."""
        if self.is_copy:
            if self.copied_at is None:
                return _("Copied from %(primary)s by the sync; no sync has completed yet") % {
                    "primary": self.copied_from.name}
            return _("Copied from %(primary)s by the sync, %(when)s") % {
                "primary": self.copied_from.name, "when": when_text(self.copied_at)}
        if self.number is None:
            return _("No version yet: the plan has not been started")
        if self.created_at is None:
            return _("Version %(number)s") % {"number": self.number}
        return _("Version %(number)s of %(when)s") % {"number": self.number, "when": when_text(self.created_at)}

    def filename(self) -> str:
        slug = slugify(self.tenant.name) or "tenant"
        if self.is_copy:
            copied = self.copied_at.date().isoformat() if self.copied_at else "unsynced"
            return f"continuity-plan-{slug}-copy-{copied}.pdf"
        return f"continuity-plan-{slug}-v{self.number or 0}.pdf"


def _secondary_mapping(tenant) -> BcpMapping | None:
    """The pair in which this tenant is the BCP tenant, or None."""
    return BcpMapping.objects.select_related("primary").filter(secondary=tenant).first()


def current_edition(*, tenant) -> Edition:
    """The plan as it is now. On a BCP tenant the rows arrive through the sync but the history does not, so the
    edition names the primary and the last successful sync run instead of a version."""
    snapshot = plan_snapshot(tenant=tenant)
    mapping = _secondary_mapping(tenant)
    if mapping is not None:
        run = (SyncRun.objects.filter(mapping=mapping, status=SyncRun.Status.SUCCEEDED)
               .order_by("-finished_at", "-id").only("finished_at").first())
        return Edition(tenant=tenant, snapshot=snapshot, copied_from=mapping.primary,
                       copied_at=run.finished_at if run else None)
    plan = Plan.objects.filter(tenant=tenant).only("version").first()
    if plan is None or not plan.version:
        return Edition(tenant=tenant, snapshot=snapshot)
    latest = (PlanVersion.objects.filter(tenant=tenant, number=plan.version)
              .defer("snapshot", "changes").first())
    return Edition(tenant=tenant, snapshot=snapshot, number=plan.version,
                   created_at=latest.created_at if latest else None, version=latest)


def version_edition(*, tenant, number) -> Edition:
    """An older (or the latest) version as it was stored; a number the plan does not have is a 404."""
    version = version_get(tenant=tenant, number=number)
    current = Plan.objects.filter(tenant=tenant).values_list("version", flat=True).first()
    return Edition(tenant=tenant, snapshot=version.snapshot, number=version.number, created_at=version.created_at,
                   is_current=version.number == current, version=version)
