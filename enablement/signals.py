"""Signals enablement sends, so that apps above it (continuity) can follow a switch without enablement
importing them."""

from django.dispatch import Signal

# Sent once a switch has committed (never for a switch that was rolled back), with the keywords
# `mapping` (tenants.BcpMapping), `to_side` ("primary" or "secondary"), `switch` (its enablement.Switch) and
# `event` (its enablement.switch audit.AuditEvent). Receivers run after the commit: a failing one is logged and
# changes nothing.
tenant_switched = Signal()
