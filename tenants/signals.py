"""What tenants tells the apps above it, which it must not import."""

from django.dispatch import Signal

# Sent by tenants.services.tenant_create inside its transaction, with `tenant` and `actor` (audit.services.Actor).
# A receiver that raises rolls the new tenant back. accounts gives the tenant its default roles.
tenant_created = Signal()
