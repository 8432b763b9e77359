"""Reads of the plan, scoped to the tenant (a row of another tenant is a 404): the plan record and its snapshot,
the plan page, and the people who own or may edit the plan."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from bcp_project.permissions import CHANGE_CONTINUITY_PLAN
from bcp_project.regions import RegionUnavailable, alias_for_tenant, health, region_label
from sync.models import SyncRun
from sync.selectors import sync_state
from tenants.bcp.selectors import mapping_for_tenant
from tenants.models import BcpMapping, Tenant, TenantGroupObjectPermission

from ..models import (
    ActivationTrigger,
    CriticalSystem,
    EmergencyContact,
    Plan,
    PlanTeam,
    PlanVersion,
    Procedure,
    ProcedureStep,
)
from .sections import SECTIONS, SLUGS, Section


def plan_of(*, tenant) -> Plan | None:
    """The tenant's plan record, or None before anyone started one."""
    return Plan.objects.filter(tenant=tenant).first()


def _text(value) -> str:
    return "" if value is None else str(value)


def plan_snapshot(*, tenant) -> dict:
    """The whole plan as plain JSON: {"sections": {section key: [{"id": pk, "name": …, "values": {field: text}}]}}.
    Values are text as a reader sees them (choices in English keys, dates ISO, links by name); steps are a list
    of {"text", "team"}. A fixed number of queries, however long the plan is."""
    teams = {t.pk: t.name for t in PlanTeam.objects.filter(tenant=tenant)}
    procedures = list(Procedure.objects.filter(tenant=tenant).prefetch_related("steps"))
    names = {p.pk: p.name for p in procedures}
    rows = {
        CriticalSystem.ENTITY_TYPE: [
            (s.pk, s.name, {"failover": s.failover, "responsible_team": teams.get(s.responsible_team_id, ""),
                            "responsible": s.responsible, "recovery_procedure": s.recovery_procedure,
                            "restoration_procedure": s.restoration_procedure,
                            "recovery_time_goal": _text(s.recovery_time_goal)})
            for s in CriticalSystem.objects.filter(tenant=tenant)],
        PlanTeam.ENTITY_TYPE: [(t.pk, t.name, {"responsibilities": t.responsibilities})
                               for t in PlanTeam.objects.filter(tenant=tenant)],
        EmergencyContact.ENTITY_TYPE: [
            (c.pk, c.name, {"role": c.role, "team": teams.get(c.team_id, ""), "phone": c.phone, "email": c.email,
                            "last_reviewed": c.last_reviewed.isoformat()})
            for c in EmergencyContact.objects.filter(tenant=tenant)],
        Procedure.ENTITY_TYPE: [
            (p.pk, p.name, {"kind": p.kind, "description": p.description,
                            "steps": [{"text": s.text, "team": teams.get(s.team_id, "")} for s in p.steps.all()]})
            for p in procedures],
        ActivationTrigger.ENTITY_TYPE: [
            (t.pk, t.name, {"criterion": t.criterion, "action": t.action, "procedure": names.get(t.procedure_id, ""),
                            "instructions": t.instructions})
            for t in ActivationTrigger.objects.filter(tenant=tenant)],
    }
    return {"sections": {section.key: [{"id": pk, "name": name, "values": values}
                                       for pk, name, values in rows[section.key]] for section in SECTIONS}}


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
    # On a BCP tenant whose primary's region does not answer: that region's name (the versions cannot be read).
    primary_unreachable: str = ""

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
    unreachable = ""
    if sync.is_secondary:
        primary = sync.mapping.primary_id
        versions = PlanVersion.objects.filter(tenant_id=primary).order_by("-number").values_list("number", flat=True)
        try:
            current = versions.first()
            if sync.last_success is not None and sync.last_success.started_at is not None:
                copied = versions.filter(created_at__lte=sync.last_success.started_at).first()
        except RegionUnavailable as exc:  # the primary's versions live in its region: the copy works without them
            copied = current = None
            unreachable = region_label(exc.alias)
    return PlanPage(plan=plan_of(tenant=tenant), sections=sections, sync=sync, copied_version=copied,
                    primary_version=current, primary_unreachable=unreachable)


@dataclass(frozen=True)
class BackupCopy:
    """Where a primary's people read the plan while the primary's region does not answer: the copy the sync made
    on the BCP tenant, in the backup's region."""

    primary: Tenant
    bcp: Tenant
    region: str  # the primary's region, by name
    down_since: datetime | None  # since when it has not answered, as the control plane keeps it
    bcp_region: str
    readable: bool  # the backup's region answers
    as_of: datetime | None = None  # the instant of the primary the copy holds (the last successful sync's snapshot)


def backup_copy(*, tenant: Tenant, alias: str) -> BackupCopy | None:
    """For a primary tenant whose own region (`alias`) does not answer: its BCP tenant's copy of the plan and
    whether it can be read. None when the tenant is no primary, or when the region that failed is not its own."""
    if alias != alias_for_tenant(tenant):
        return None
    mapping = mapping_for_tenant(tenant=tenant, side=BcpMapping.Side.PRIMARY)
    if mapping is None:
        return None
    bcp_alias = alias_for_tenant(mapping.secondary)
    readable, as_of = not health.is_down(bcp_alias), None
    if readable:
        try:
            run = (SyncRun.objects.filter(mapping=mapping, status=SyncRun.Status.SUCCEEDED)
                   .order_by("-finished_at", "-id").first())
        except RegionUnavailable:
            readable = False
        else:
            as_of = run.as_of if run is not None else None
    return BackupCopy(primary=mapping.primary, bcp=mapping.secondary, region=region_label(alias),
                      down_since=health.state(alias).down_since, bcp_region=region_label(bcp_alias),
                      readable=readable, as_of=as_of)


def section_item(*, tenant, section: Section, pk: int):
    return get_object_or_404(section.model, tenant=tenant, pk=pk)


def procedure_steps(*, procedure: Procedure) -> list[ProcedureStep]:
    return list(procedure.steps.select_related("team").order_by("position", "id"))


def procedure_step(*, procedure: Procedure, pk: int) -> ProcedureStep:
    return get_object_or_404(ProcedureStep.objects.select_related("procedure"), procedure=procedure, pk=pk)


# --- the people of the plan ---------------------------------------------------------------------------------


def tenant_people(*, tenant: Tenant):
    """The people of the tenant who can own a follow-up action or the plan: its active users."""
    return User.objects.filter(tenant=tenant, is_active=True).order_by("first_name", "last_name", "username")


def plan_editors(*, tenant: Tenant):
    """Active users of the tenant whose role holds Continuity Plan: Edit."""
    groups = TenantGroupObjectPermission.objects.filter(
        content_object=tenant, permission__codename=CHANGE_CONTINUITY_PLAN,
        permission__content_type__app_label="tenants").values("group_id")
    return User.objects.filter(tenant=tenant, is_active=True, role__group_id__in=groups)


def reminder_recipients(*, plan: Plan) -> list:
    """The plan's owners; when none are chosen, everyone who may edit the plan. Only those with an email."""
    chosen = list(plan.owners.all())
    if chosen:
        return [user for user in chosen if user.is_active and user.email]
    return list(plan_editors(tenant=plan.tenant).exclude(email="").order_by("username"))


def primary_of(*, tenant: Tenant) -> str | None:
    """On a BCP tenant, the name of its primary, where the plan's settings live; None elsewhere."""
    mapping = mapping_for_tenant(tenant=tenant, side=BcpMapping.Side.SECONDARY)
    return mapping.primary.name if mapping is not None else None
