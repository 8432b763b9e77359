"""Reads for BC Enablement: the pair a tenant belongs to, where it stands, whether it is ready to switch, and the
switches it has had (which continuity reads to record each switch and its revert as a drill)."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from accounts.models import User
from accounts.roles import CHANGE_BCP_ENABLEMENT
from bcp_project.regions import RegionUnavailable, alias_for_tenant, health, region_label
from bcp_project.templatetags.times import when_text
from bcp_project.texts import gettext as _  # the checks' sentences are stored (rehearsals) and read in any language
from bcp_project.texts import ngettext
from status.models import StatusLevel
from status.selectors import EffectiveStatus, statuses_set
from sync.models import SyncConfiguration, SyncRun
from sync.services import STALE_GRACE
from tenants.models import BcpMapping, Tenant, TenantGroupObjectPermission

from .missing_accounts.selectors import describe, missing_ids, people_count
from .models import Switch


def mapping_of(*, tenant: Tenant) -> BcpMapping | None:
    """The pair the tenant belongs to, on either side, or None."""
    return (BcpMapping.objects.of_tenant(tenant)
            .select_related("primary__region", "secondary__region", "switched_by").first())


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
    # Not a condition of the switch but a reason for it (the primary does not answer, or is in an outage): shown
    # as such, never as met, and it asks nothing of the switch.
    reason: bool = False


@dataclass(frozen=True)
class PairSide:
    """One tenant of the pair as BC Enablement shows it: where it is kept, whether that region's database answers
    (as the control plane keeps it, with since when), the platform status a representative set for its region and
    for the tenant, and whether it is the side people land on now."""

    side: str  # BcpMapping.Side
    tenant: Tenant
    alias: str
    region: str  # the region's name
    answering: bool
    down_since: datetime | None
    region_status: EffectiveStatus
    tenant_status: EffectiveStatus
    active: bool

    @property
    def is_primary(self) -> bool:
        return self.side == BcpMapping.Side.PRIMARY

    @property
    def status(self) -> EffectiveStatus:
        """The worse of the two (the tenant's own on a tie), as the outage page reads it."""
        region, own = self.region_status, self.tenant_status
        return own if StatusLevel(own.level).severity >= StatusLevel(region.level).severity else region

    @property
    def in_outage(self) -> bool:
        return self.status.is_outage


def pair_sides(*, mapping: BcpMapping) -> list[PairSide]:
    """Both tenants of the pair, the primary first, in two queries of the control plane (the regions' health and
    the statuses set), whatever the state of the regions: nothing here touches a region."""
    tenants = (mapping.primary, mapping.secondary)
    states = {state.alias: state for state in health.states()}
    statuses = statuses_set(tenants=tenants)
    sides = []
    for side, tenant in zip((BcpMapping.Side.PRIMARY, BcpMapping.Side.SECONDARY), tenants, strict=True):
        alias = alias_for_tenant(tenant)
        state = states.get(alias) or health.RegionState(alias=alias)
        region_status, tenant_status = statuses[tenant.pk]
        sides.append(PairSide(side=side, tenant=tenant, alias=alias, region=tenant.region.label,
                              answering=state.answering, down_since=state.down_since, region_status=region_status,
                              tenant_status=tenant_status, active=mapping.active_side == side))
    return sides


@dataclass(frozen=True)
class Readiness:
    mapping: BcpMapping
    configuration: SyncConfiguration | None
    last_success: SyncRun | None
    active_run: SyncRun | None
    checks: list[Check]
    sides: list[PairSide]

    @property
    def blocking(self) -> list[Check]:
        return [check for check in self.checks if not check.ok and check.blocking]

    @property
    def overridable(self) -> list[Check]:
        return [check for check in self.checks if not check.ok and check.needs_reason]

    @property
    def all_ok(self) -> bool:
        return all(check.ok for check in self.checks if not check.reason)

    @property
    def primary(self) -> PairSide:
        return self.sides[0]

    @property
    def backup(self) -> PairSide:
        return self.sides[1]

    @property
    def regions_down(self) -> list["RegionDown"]:
        """The pair's regions (primary's first) whose database is not answering, with since when."""
        return [RegionDown(alias=side.alias, name=side.region, down_since=side.down_since, side=side.side)
                for side in self.sides if not side.answering]


@dataclass(frozen=True)
class RegionDown:
    """A region of the pair whose database does not answer, as the control plane keeps it (not only cached)."""

    alias: str
    name: str
    down_since: datetime | None
    side: str  # BcpMapping.Side of the tenant that lives there


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
    sides = pair_sides(mapping=mapping)
    backup = sides[1]
    configuration = SyncConfiguration.objects.filter(mapping=mapping).first()
    runs = SyncRun.objects.filter(mapping=mapping)
    # The runs and the correlations live in the backup's region: while the control plane says it does not answer,
    # what needs them cannot be checked (and is not tried).
    unreachable = None if backup.answering else backup.alias
    last_success = active_run = None
    if unreachable is None:
        try:
            last_success = runs.filter(status=SyncRun.Status.SUCCEEDED).order_by("-finished_at", "-id").first()
            active_run = runs.filter(status__in=SyncRun.ACTIVE).first()
        except RegionUnavailable as exc:
            unreachable = exc.alias
    checks = _health_checks(mapping, sides)

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

    # On the BCP side (the BCP tenant is active) what matters is what it holds and who can take everyone home.
    on_bcp = mapping.active_side == BcpMapping.Side.SECONDARY
    enabled = configuration is not None and configuration.enabled
    if enabled:
        text = (_("Sync is enabled; it is paused while the BCP tenant is active and resumes when you switch back.")
                if on_bcp else _("Sync is enabled."))
    else:
        text = _("Sync is not enabled, so changes on the primary no longer reach the BCP tenant. Enable it under "
                 "Sync Configuration.")
    checks.append(Check("sync_enabled", enabled, text, needs_reason=True))

    if unreachable is not None:
        checks += [_cannot_check("sync_fresh", unreachable), _cannot_check("sync_idle", unreachable)]
    elif last_success is None:
        checks.append(Check("sync_fresh", False, _("No sync has completed yet, so the BCP tenant holds none of the "
                                                    "primary's configuration. Run a sync before switching."),
                            blocking=True))
    else:
        interval = configuration.interval if configuration is not None else None
        fresh = interval is not None and last_success.finished_at >= now - interval - STALE_GRACE
        when = when_text(last_success.as_of)
        if on_bcp:  # its freshness was a condition of the switch; now it is what the BCP tenant holds
            fresh, text = True, _("The BCP tenant holds the primary as of %(time)s.")
        else:
            text = (_("The last sync succeeded in time; changes made after %(time)s are not on the BCP tenant.")
                    if fresh else
                    _("The last successful sync is older than its interval allows; changes made after %(time)s are "
                      "not on the BCP tenant. Run a sync, or switch anyway with a reason."))
        checks.append(Check("sync_fresh", fresh, text % {"time": when}, needs_reason=True))

    if unreachable is None:
        if active_run is None:
            text = _("No sync is running.")
        elif active_run.status == SyncRun.Status.QUEUED:
            # Saved, not taken by a worker yet (the sync a switch back queues, a Sync now with the queue down): it
            # is not running, and a run that starts with the BCP tenant active copies nothing and ends as skipped.
            text = _("A sync is waiting to start (queued at %(time)s): it starts as soon as a worker takes it. Wait "
                     "for it to finish, or switch anyway with a reason: once the BCP tenant is active it does not "
                     "run.") % {"time": when_text(active_run.queued_at)}
        else:
            text = _("A sync is running. Wait for it to finish, or switch anyway with a reason: the run stops before "
                     "its next write.")
        checks.append(Check("sync_idle", active_run is None, text, needs_reason=True))

    # Switching back is done on the BCP tenant: before a switch, who will be able to there (the synced roles);
    # on the BCP side, who can now.
    holders = enablement_holders(tenant=secondary).count()
    if holders:
        text = ngettext("%(count)d user on “%(tenant)s” holds BCP Tenant Enablement Edit and can switch back.",
                        "%(count)d users on “%(tenant)s” hold BCP Tenant Enablement Edit and can switch back.",
                        holders) % {"count": holders, "tenant": secondary.name}
    elif on_bcp:
        text = _("Nobody on “%(tenant)s” holds BCP Tenant Enablement Edit, so nobody can switch back. Ask your "
                 "account representative to give its Administrator role that permission.") % {"tenant": secondary.name}
    else:
        text = _("Nobody on “%(tenant)s” holds BCP Tenant Enablement Edit, so nobody there could switch back. Give its "
                 "Administrator role that permission (and sync) first.") % {"tenant": secondary.name}
    checks.append(Check("switch_back", holders > 0, text, needs_reason=True))

    try:
        if unreachable is not None:
            raise RegionUnavailable(unreachable)
        people = people_count(mapping=mapping)
        missing = missing_ids(mapping=mapping)
    except RegionUnavailable as exc:  # the correlations live in the backup's region
        checks.append(_cannot_check("users", exc.alias))
    else:
        checks.append(_users_check(mapping, people=people, missing=missing))
    return Readiness(mapping=mapping, configuration=configuration, last_success=last_success, active_run=active_run,
                     checks=checks, sides=sides)


def _since(text_since: str, text: str, since: datetime | None, **values) -> str:
    """`text_since` with the time ("2026-12-06 14:02 UTC"), or `text` when the control plane does not say."""
    if since is None:
        return text % values
    return text_since % {**values, "since": when_text(since)}


def _reported(status: EffectiveStatus) -> str:
    """ "Outage: <message>" as a representative set it, for a sentence that names whose status it is."""
    return f"{status.label}: {status.message}" if status.message else str(status.label)


def _health_checks(mapping: BcpMapping, sides: list) -> list[Check]:
    """What the two sides' health means for a switch: the primary not answering, or in an outage, is the reason
    to switch (shown as a reason, never as met); the BCP tenant's region not answering stops a switch to it, and
    an outage reported for the BCP tenant or its region needs a reason."""
    primary, backup = sides
    checks = []
    names = {"primary": primary.tenant.name, "bcp": backup.tenant.name}
    on_bcp = mapping.active_side == BcpMapping.Side.SECONDARY
    if not primary.answering:
        text = _since(_("The database of %(region)s, where “%(primary)s” is kept, has not answered since %(since)s."),
                      _("The database of %(region)s, where “%(primary)s” is kept, is not answering."),
                      primary.down_since, region=primary.region, **names)
        text += " " + (_("Switching back now would send everyone to a tenant that cannot be used.")
                       if on_bcp else _("This is a reason to switch to “%(bcp)s”.") % names)
        checks.append(Check("primary_region", False, text, reason=True))
    if primary.in_outage:
        text = (_("Your account representative reports for “%(primary)s”: %(status)s.")
                % {**names, "status": _reported(primary.status)})
        text += " " + (_("Switching back now would send everyone to a tenant in an outage.")
                       if on_bcp else _("This is a reason to switch to “%(bcp)s”.") % names)
        checks.append(Check("primary_status", False, text, reason=True))

    if backup.answering:
        text = (_("The database of %(region)s, where the BCP tenant “%(bcp)s” is kept, is answering.")
                % {"region": backup.region, **names})
    else:
        text = _since(_("The database of %(region)s, where the BCP tenant “%(bcp)s” is kept, has not answered since "
                        "%(since)s. A switch to it is refused until it answers: nobody could work there."),
                      _("The database of %(region)s, where the BCP tenant “%(bcp)s” is kept, is not answering. A "
                        "switch to it is refused until it answers: nobody could work there."),
                      backup.down_since, region=backup.region, **names)
    checks.append(Check("bcp_region", backup.answering, text, blocking=True))

    if backup.in_outage:
        checks.append(Check("bcp_status", False, _(
            "Your account representative reports for the BCP tenant “%(bcp)s”: %(status)s. Ask them whether it can "
            "take the work, and switch anyway only with a reason.") % {**names, "status": _reported(backup.status)},
            needs_reason=True))
    elif backup.status.is_operational:
        checks.append(Check("bcp_status", True, _("No outage is reported for the BCP tenant “%(bcp)s” or its "
                                                  "region.") % names))
    else:
        checks.append(Check("bcp_status", True, _("Your account representative reports for the BCP tenant "
                                                  "“%(bcp)s”: %(status)s.")
                            % {**names, "status": _reported(backup.status)}))
    return checks


NAMED = 5  # people named in the readiness line; the list under BC Enablement names them all


def _users_check(mapping: BcpMapping, *, people: int, missing: list[int]) -> Check:
    """How many of the primary's people have an account on the BCP tenant; those who have none, by name, and what
    gives them one now: the next sync while the primary is active, an administrator on the BCP tenant while that
    is active (syncing is paused then)."""
    copied = people - len(missing)
    share = 100 if people == 0 else round(100 * copied / people)
    text = (_("%(share)d%% of the primary's users (%(copied)d of %(people)d) have an account on the BCP tenant.")
            % {"share": share, "copied": copied, "people": people})
    if missing:
        named = [describe(person) for person in User.objects.filter(pk__in=missing).order_by("username_key")[:NAMED]]
        more = len(missing) - len(named)
        text += " " + (ngettext("Without one: %(names)s and %(count)d more.",
                                "Without one: %(names)s and %(count)d more.", more)
                       % {"names": ", ".join(named), "count": more} if more else
                       _("Without one: %(names)s.") % {"names": ", ".join(named)})
        if mapping.active_side == BcpMapping.Side.PRIMARY:
            then = _("The next sync gives them one. If you switch before it, an administrator on “%(bcp)s” can "
                     "give them one there: BC Enablement → People without an account.")
        else:
            then = _("An administrator on “%(bcp)s” can give them one now: BC Enablement → People without an "
                     "account.")
        text += " " + then % {"bcp": mapping.secondary.name}
    return Check("users", not missing, text, needs_reason=True)


def _cannot_check(key: str, alias: str) -> Check:
    """A check that needs a region whose database does not answer: said so, instead of failing the page. A switch
    may go ahead with a reason (the person knows why they switch)."""
    return Check(key, False, _("This cannot be checked: the database of %(region)s is not answering.")
                 % {"region": region_label(alias)}, needs_reason=True, unknown=True)


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
