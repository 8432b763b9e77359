"""The plan's versions, and the plan as one reader opens it (an Edition): the current plan, an older version, or
the copy the sync made on a BCP tenant. A version the tenant does not have is a 404."""

from dataclasses import dataclass
from datetime import datetime

from django.http import Http404
from django.utils.text import slugify
from django.utils.translation import gettext as _

from bcp_project.templatetags.times import when_text
from sync.models import SyncRun
from tenants.bcp.selectors import mapping_for_tenant
from tenants.models import BcpMapping

from ..models import Plan, PlanVersion
from ..plan.selectors import plan_snapshot
from .snapshots import SectionView, item_count, snapshot_sections


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
    # The BCP tenant whose copy a primary's people read while the primary's region does not answer.
    held_by: object = None

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
        if self.held_by is not None:
            if self.copied_at is None:
                return _("Copy on %(bcp)s: no sync has completed yet") % {"bcp": self.held_by.name}
            return _("Copy on %(bcp)s as of %(when)s") % {"bcp": self.held_by.name, "when": when_text(self.copied_at)}
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


def current_edition(*, tenant) -> Edition:
    """The plan as it is now. On a BCP tenant the rows arrive through the sync but the history does not, so the
    edition names the primary and the last successful sync run instead of a version."""
    snapshot = plan_snapshot(tenant=tenant)
    mapping = mapping_for_tenant(tenant=tenant, side=BcpMapping.Side.SECONDARY)
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


def backup_edition(*, copy) -> Edition:
    """The plan as the BCP tenant holds it (`copy`: continuity.plan.selectors.BackupCopy), for the primary's people
    while the primary's region does not answer: named after the primary, as of the last sync's snapshot."""
    return Edition(tenant=copy.primary, snapshot=plan_snapshot(tenant=copy.bcp), copied_from=copy.primary,
                   copied_at=copy.as_of, held_by=copy.bcp)


def version_edition(*, tenant, number) -> Edition:
    """An older (or the latest) version as it was stored; a number the plan does not have is a 404."""
    version = version_get(tenant=tenant, number=number)
    current = Plan.objects.filter(tenant=tenant).values_list("version", flat=True).first()
    return Edition(tenant=tenant, snapshot=version.snapshot, number=version.number, created_at=version.created_at,
                   is_current=version.number == current, version=version)
