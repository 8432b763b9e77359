"""Every switch made before enablement recorded them as Switch rows is read from its audit row (action
"enablement.switch", object the BcpMapping, `changes` {"from", "to", "routing_epoch", "on_behalf",
"switched_anyway", "reason"}) and recorded, oldest first, so that the rows keep the order they happened in. The
pair stays linked while it exists; the primary is the audit row's tenant. Running it again adds nothing."""

from django.db import migrations

SWITCH_ACTION = "enablement.switch"
MAPPING_LABEL = "tenants.BcpMapping"
SIDES = ("primary", "secondary")


def switches_from_audit(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    BcpMapping = apps.get_model("tenants", "BcpMapping")
    Switch = apps.get_model("enablement", "Switch")
    done = set(Switch.objects.values_list("audit_event_id", flat=True))
    mappings = dict(BcpMapping.objects.values_list("pk", "primary_id"))
    rows = []
    events = (AuditEvent.objects.filter(action=SWITCH_ACTION, object_type=MAPPING_LABEL)
              .order_by("created_at", "pk"))
    for event in events.iterator(chunk_size=1000):
        changes = event.changes or {}
        to_side = changes.get("to")
        if event.pk in done or to_side not in SIDES:
            continue
        from_side = changes.get("from")
        if from_side not in SIDES or from_side == to_side:
            from_side = SIDES[1] if to_side == SIDES[0] else SIDES[0]
        mapping_id = int(event.object_id) if event.object_id.isdigit() else None
        # A pair removed since (or an id taken again by another pair) is not this switch's pair.
        if mapping_id not in mappings or (event.tenant_id is not None and mappings[mapping_id] != event.tenant_id):
            mapping_id = None
        rows.append(Switch(
            mapping_id=mapping_id, primary_id=event.tenant_id, from_side=from_side, to_side=to_side,
            by_id=event.actor_id, by_name=event.actor_name, acting_as=event.acting_as,
            on_behalf=bool(changes.get("on_behalf")), at=event.created_at, ip_address=event.ip_address,
            switched_anyway=list(changes.get("switched_anyway") or []), reason=changes.get("reason") or "",
            routing_epoch=int(changes.get("routing_epoch") or 0), audit_event_id=event.pk))
    Switch.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_initial"),
        ("enablement", "0004_switch"),
        ("tenants", "0005_alter_tenant_options"),
    ]

    operations = [
        # Backwards, the table goes with 0004; the audit rows it was read from stay.
        migrations.RunPython(switches_from_audit, migrations.RunPython.noop),
    ]
