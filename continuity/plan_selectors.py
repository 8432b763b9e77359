"""Reads for the plan's pages, scoped to the tenant; a row of another tenant is a 404."""

from dataclasses import dataclass

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone

from sync.selectors import sync_state

from .models import ActivationTrigger, CriticalSystem, EmergencyContact, PlanTeam, PlanVersion, Procedure, ProcedureStep
from .sections import SECTIONS, Section
from .selectors import plan_of

# The path segment of each section's pages.
SLUGS: dict[str, str] = {
    CriticalSystem.ENTITY_TYPE: "systems",
    PlanTeam.ENTITY_TYPE: "teams",
    EmergencyContact.ENTITY_TYPE: "contacts",
    Procedure.ENTITY_TYPE: "procedures",
    ActivationTrigger.ENTITY_TYPE: "triggers",
}
BY_SLUG: dict[str, Section] = {slug: next(s for s in SECTIONS if s.key == key) for key, slug in SLUGS.items()}


def _rows(section: Section, tenant):
    rows = section.model.objects.filter(tenant=tenant).order_by("position", "id")
    if section.model is CriticalSystem:
        return rows.select_related("responsible_team")
    if section.model is EmergencyContact:
        return rows.select_related("team")
    if section.model is ActivationTrigger:
        return rows.select_related("procedure")
    if section.model is Procedure:
        return rows.prefetch_related(Prefetch("steps", ProcedureStep.objects.select_related("team")
                                              .order_by("position", "id")))
    return rows


@dataclass(frozen=True)
class SectionRows:
    section: Section
    slug: str
    items: list

    @property
    def anchor(self) -> str:
        return f"section-{self.slug}"

    @property
    def item_name(self):
        return self.section.model._meta.verbose_name


@dataclass(frozen=True)
class PlanPage:
    plan: object  # the Plan, or None before it was started (and on a BCP tenant, which gets only the copies)
    sections: list[SectionRows]
    sync: object  # sync.selectors.SyncState
    # On a BCP tenant: the primary's version the last successful sync copied, and the primary's version now.
    copied_version: int | None = None
    primary_version: int | None = None

    @property
    def is_copy(self) -> bool:
        """The BCP tenant of a pair: its plan is the primary's, copied by the sync."""
        return self.sync.is_secondary

    @property
    def is_empty(self) -> bool:
        return not any(rows.items for rows in self.sections)

    @property
    def stale_contacts(self) -> int:
        today = timezone.localdate()
        return sum(1 for rows in self.sections if rows.section.model is EmergencyContact
                   for contact in rows.items if contact.is_stale(today))


def plan_page(*, tenant) -> PlanPage:
    """Everything the plan page shows, in a fixed number of queries however long the plan is."""
    sections = [SectionRows(section, SLUGS[section.key], list(_rows(section, tenant))) for section in SECTIONS]
    sync = sync_state(tenant=tenant)
    copied = current = None
    if sync.is_secondary:
        primary = sync.mapping.primary_id
        versions = PlanVersion.objects.filter(tenant_id=primary).order_by("-number").values_list("number", flat=True)
        current = versions.first()
        if sync.last_success is not None and sync.last_success.started_at is not None:
            copied = versions.filter(created_at__lte=sync.last_success.started_at).first()
    return PlanPage(plan=plan_of(tenant=tenant), sections=sections, sync=sync, copied_version=copied,
                    primary_version=current)


def section_item(*, tenant, section: Section, pk: int):
    return get_object_or_404(section.model, tenant=tenant, pk=pk)


def procedure_steps(*, procedure: Procedure) -> list[ProcedureStep]:
    return list(procedure.steps.select_related("team").order_by("position", "id"))


def procedure_step(*, procedure: Procedure, pk: int) -> ProcedureStep:
    return get_object_or_404(ProcedureStep.objects.select_related("procedure"), procedure=procedure, pk=pk)
