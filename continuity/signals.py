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
