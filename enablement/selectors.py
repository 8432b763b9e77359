"""Reads for BC Enablement: the pair a tenant belongs to, where it stands, whether it is ready to switch, and the
switches it has had (which continuity reads to record each switch and its revert as a drill)."""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import timezone

from accounts.models import User
from accounts.roles import CHANGE_BCP_ENABLEMENT
from bcp_project.regions import RegionUnavailable, alias_for_tenant, health, region_label
from bcp_project.texts import gettext as _  # the checks' sentences are stored (rehearsals) and read in any language
from bcp_project.texts import ngettext
from sync.models import Correlation, SyncConfiguration, SyncRun
from sync.services import STALE_GRACE
from tenants.models import BcpMapping, Tenant, TenantGroupObjectPermission

from .models import Switch


def mapping_of(*, tenant: Tenant) -> BcpMapping | None:
    """The pair the tenant belongs to, on either side, or None."""
    return BcpMapping.objects.of_tenant(tenant).select_related("primary", "secondary", "switched_by").first()


@dataclass(frozen=True)
class Check:
    key: str
    ok: bool
    text: str
    # A failed check that stops a switch to the BCP tenant outright, rather than asking "switch anyway".
    blocking: bool = False
    # A failed check that a switch to the BCP tenant may override with a reason.
    needs_reason: bool = False
    # A check that could not be made because a region's database does not answer (not passed, not failed).
    unknown: bool = False


@dataclass(frozen=True)
class Readiness:
    mapping: BcpMapping
    configuration: SyncConfiguration | None
    last_success: SyncRun | None
    active_run: SyncRun | None
    checks: list[Check]

    @property
    def blocking(self) -> list[Check]:
        return [check for check in self.checks if not check.ok and check.blocking]

    @property
    def overridable(self) -> list[Check]:
        return [check for check in self.checks if not check.ok and check.needs_reason]

    @property
    def all_ok(self) -> bool:
        return all(check.ok for check in self.checks)


def enablement_holders(*, tenant: Tenant):
    """Active users of the tenant whose role holds BCP Tenant Enablement: Edit."""
    groups = TenantGroupObjectPermission.objects.filter(
        content_object=tenant, permission__codename=CHANGE_BCP_ENABLEMENT,
        permission__content_type__app_label="tenants").values("group_id")
    return User.objects.filter(tenant=tenant, is_active=True, role__group_id__in=groups)


def readiness(*, mapping: BcpMapping, now: datetime | None = None) -> Readiness:
    """Each check with a sentence a tenant administrator can act on. The switch to the BCP tenant reads the
    same checks: a tenant that never completed a sync is refused, a stale or running sync needs a reason."""
    now = now or timezone.now()
    primary, secondary = mapping.primary, mapping.secondary
    configuration = SyncConfiguration.objects.filter(mapping=mapping).first()
    runs = SyncRun.objects.filter(mapping=mapping)
    unreachable = None
    try:
        last_success = runs.filter(status=SyncRun.Status.SUCCEEDED).order_by("-finished_at", "-id").first()
        active_run = runs.filter(status__in=SyncRun.ACTIVE).first()
    except RegionUnavailable as exc:  # the runs live in the backup's region
        last_success = active_run = None
        unreachable = exc.alias
    checks = []

    valid = primary.is_active and secondary.is_active and mapping.secondary_enabled
    if valid:
        text = _("The mapping is valid: “%(primary)s” and its BCP tenant “%(bcp)s” are both active.")
    elif not mapping.secondary_enabled:
        text = _("BCP is not turned on for the BCP tenant “%(bcp)s” yet. Ask your account representative to "
                 "finish the set-up on its Applications & Features tab.")
    else:
        text = _("One tenant of the pair is inactive. Ask your account representative to activate it.")
    checks.append(Check("mapping", valid, text % {"primary": primary.name, "bcp": secondary.name}, blocking=True))

    has_passkey = bool(mapping.passkey_hash)
    checks.append(Check("passkey", has_passkey, _("A passkey is set for this pair.") if has_passkey else
                        _("No passkey is set. Ask your account representative to generate one."), blocking=True))

    enabled = configuration is not None and configuration.enabled
    checks.append(Check("sync_enabled", enabled, _("Sync is enabled.") if enabled else
                        _("Sync is not enabled, so changes on the primary no longer reach the BCP tenant. "
                          "Enable it under Sync Configuration."), needs_reason=True))

    if unreachable is not None:
        checks += [_cannot_check("sync_fresh", unreachable), _cannot_check("sync_idle", unreachable)]
    elif last_success is None:
        checks.append(Check("sync_fresh", False, _("No sync has completed yet, so the BCP tenant holds none of the "
                                                    "primary's configuration. Run a sync before switching."),
                            blocking=True))
    else:
        interval = configuration.interval if configuration is not None else None
        fresh = interval is not None and last_success.finished_at >= now - interval - STALE_GRACE
        when = last_success.as_of.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        text = (_("The last sync succeeded in time; changes made after %(time)s UTC are not on the BCP tenant.")
                if fresh else
                _("The last successful sync is older than its interval allows; changes made after %(time)s UTC are "
                  "not on the BCP tenant. Run a sync, or switch anyway with a reason."))
        checks.append(Check("sync_fresh", fresh, text % {"time": when}, needs_reason=True))

    if unreachable is None:
        checks.append(Check("sync_idle", active_run is None, _("No sync is running.") if active_run is None else
                            _("A sync is running. Wait for it to finish, or switch anyway with a reason: the run stops "
                              "before its next write."), needs_reason=True))

    other = mapping.inactive_tenant
    holders = enablement_holders(tenant=other).count()
    checks.append(Check(
        "switch_back", holders > 0,
        ngettext("%(count)d user on “%(tenant)s” holds BCP Tenant Enablement Edit and can switch back.",
                 "%(count)d users on “%(tenant)s” hold BCP Tenant Enablement Edit and can switch back.", holders)
        % {"count": holders, "tenant": other.name} if holders else
        _("Nobody on “%(tenant)s” holds BCP Tenant Enablement Edit, so nobody there could switch back. Give its "
          "Administrator role that permission (and sync) first.") % {"tenant": other.name}, needs_reason=True))

    people = User.objects.filter(tenant=primary, is_bcp_copy=False).count()
    try:
        copied = Correlation.objects.filter(mapping=mapping, entity_type="user").count()
    except RegionUnavailable as exc:  # the correlations live in the backup's region
        checks.append(_cannot_check("users", exc.alias))
    else:
        share = 100 if people == 0 else min(100, round(100 * copied / people))
        checks.append(Check(
            "users", copied >= people,
            _("%(share)d%% of the primary's users (%(copied)d of %(people)d) have an account on the BCP tenant.")
            % {"share": share, "copied": min(copied, people), "people": people}
            + ("" if copied >= people else " " + _("The others cannot sign in after a switch until the next sync.")),
            needs_reason=True))
    return Readiness(mapping=mapping, configuration=configuration, last_success=last_success, active_run=active_run,
                     checks=checks)


def _cannot_check(key: str, alias: str) -> Check:
    """A check that needs a region whose database does not answer: said so, instead of failing the page. A switch
    may go ahead with a reason (the person knows why they switch)."""
    return Check(key, False, _("This cannot be checked: the database of %(region)s is not answering.")
                 % {"region": region_label(alias)}, needs_reason=True, unknown=True)


@dataclass(frozen=True)
class RegionDown:
    """A region of the pair whose database does not answer, as the control plane keeps it (not only cached)."""

    alias: str
    name: str
    down_since: datetime | None
    side: str  # BcpMapping.Side of the tenant that lives there


def pair_regions_down(*, mapping: BcpMapping) -> list[RegionDown]:
    """The pair's regions (primary's first) whose database is not answering, with since when."""
    down = []
    for side, tenant_id in ((BcpMapping.Side.PRIMARY, mapping.primary_id),
                            (BcpMapping.Side.SECONDARY, mapping.secondary_id)):
        alias = alias_for_tenant(tenant_id)
        state = health.state(alias)
        if not state.answering or health.is_down(alias):
            down.append(RegionDown(alias=alias, name=region_label(alias), down_since=state.down_since, side=side))
    return down


# --- switches ------------------------------------------------------------------------------------------------
# A switch and the revert that ends it belong to the same primary: BCP cannot be turned off (nor the primary
# mapped again) while the BCP tenant is active, so they are paired by the primary, and stay paired after the
# pair's row is gone.


def switches_to_bcp():
    """Every switch to a BCP tenant, oldest first, with its pair and tenants."""
    return (Switch.objects.filter(to_side=BcpMapping.Side.SECONDARY, primary__isnull=False)
            .select_related("mapping__primary", "mapping__secondary", "primary", "audit_event")
            .order_by("at", "pk"))


def switch_ended_by(*, revert: Switch) -> Switch | None:
    """The switch to the BCP tenant that `revert` (a switch back to the primary) ended, or None."""
    if revert.to_side != BcpMapping.Side.PRIMARY or revert.primary_id is None:
        return None
    return (switches_to_bcp().filter(primary_id=revert.primary_id, at__lte=revert.at, pk__lt=revert.pk)
            .order_by("-at", "-pk").first())


def switch_revert_of(*, switch: Switch) -> Switch | None:
    """The switch back to the primary that ended `switch`, or None while the BCP tenant is still active."""
    if switch.primary_id is None:
        return None
    return (Switch.objects.filter(primary_id=switch.primary_id, to_side=BcpMapping.Side.PRIMARY,
                                  at__gte=switch.at, pk__gt=switch.pk)
            .select_related("audit_event").order_by("at", "pk").first())
