"""Continuity follows what other apps announce, without them importing it."""

from tenants.models import BcpMapping


def switch_back_recorded_as_drill(sender, *, mapping, to_side, switch, **kwargs):
    """enablement.signals.tenant_switched: a switch back to the primary ends a real switch; it becomes a drill of
    the primary, from enablement's record of the two switches. The daily scan (drills.services.
    switch_drills_catch_up) records any this missed."""
    if to_side != BcpMapping.Side.PRIMARY:
        return
    from .drills.services import switch_drill_record

    switch_drill_record(revert=switch)


def user_deleted_leaves_no_dangling_reference(sender, *, instance, **kwargs):
    """accounts.User post_delete: the plan's rows that name the user (in the tenant's region, which no cascade
    reaches) keep the name they copied and lose the reference."""
    if instance.tenant_id is None:
        return
    from .models import Drill, FollowUpAction, PlanVersion

    FollowUpAction.objects.filter(tenant_id=instance.tenant_id, owner_id=instance.pk).update(owner=None)
    Drill.objects.filter(tenant_id=instance.tenant_id, recorded_by_id=instance.pk).update(recorded_by=None)
    PlanVersion.objects.filter(tenant_id=instance.tenant_id, actor_id=instance.pk).update(actor=None)
