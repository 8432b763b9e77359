"""Platform status is its own app now (status/migrations/0001_initial.py): enablement forgets its two models
in Django's state only. The tables, which keep their names, and their rows stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('enablement', '0002_platform_status'),
        ('status', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name='PlatformStatus'),
                migrations.DeleteModel(name='StatusSubscription'),
            ],
        ),
    ]
