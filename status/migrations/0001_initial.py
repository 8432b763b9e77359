"""Platform status moves from enablement into its own app, keeping its tables and every row in them.

The tables were created by enablement's 0002_platform_status and keep their names (the models set db_table),
so this migration only tells Django's state that the models are status's now; enablement's
0003_platform_status_moved_to_status drops them from enablement's state. Nothing is created, copied or
dropped in the database. The content types (and so the permissions and any guardian rows that point at them)
are relabelled rather than created again.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = ("platformstatus", "statussubscription")


def relabel_content_types(from_label, to_label):
    def relabel(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        for model in MOVED:
            if not ContentType.objects.using(db).filter(app_label=to_label, model=model).exists():
                ContentType.objects.using(db).filter(app_label=from_label, model=model).update(app_label=to_label)
    return relabel


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        # The tables exist from here on, on a new database as on an old one.
        ('enablement', '0002_platform_status'),
        ('tenants', '0005_alter_tenant_options'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='PlatformStatus',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('level', models.CharField(choices=[('operational', 'Operational'), ('degraded', 'Degraded'), ('outage', 'Outage')], default='operational', max_length=12, verbose_name='status')),
                        ('message', models.CharField(blank=True, max_length=500, verbose_name='message')),
                        ('updated_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='updated')),
                        ('region', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='platform_status', to='tenants.region', verbose_name='region')),
                        ('tenant', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='platform_status', to='tenants.tenant', verbose_name='tenant')),
                        ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='updated by')),
                    ],
                    options={
                        'verbose_name': 'platform status',
                        'verbose_name_plural': 'platform statuses',
                        'db_table': 'enablement_platformstatus',
                        'indexes': [models.Index(fields=['level', '-updated_at'], name='platform_status_level_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('region__isnull', False), ('tenant__isnull', True)), models.Q(('region__isnull', True), ('tenant__isnull', False)), _connector='OR'), name='platform_status_region_xor_tenant'), models.CheckConstraint(condition=models.Q(('level__in', ['operational', 'degraded', 'outage'])), name='platform_status_level_valid')],
                    },
                ),
                migrations.CreateModel(
                    name='StatusSubscription',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenants.tenant', verbose_name='tenant')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user')),
                    ],
                    options={
                        'verbose_name': 'status alert subscription',
                        'verbose_name_plural': 'status alert subscriptions',
                        'db_table': 'enablement_statussubscription',
                        'constraints': [models.UniqueConstraint(fields=('user', 'tenant'), name='status_subscription_unique')],
                    },
                ),
            ],
        ),
        migrations.RunPython(relabel_content_types("enablement", "status"),
                             relabel_content_types("status", "enablement")),
    ]
