"""The sync rewrites a BCP copy's row whenever its person changes, and every sign-in writes last_login: half-empty
pages keep those updates HOT (no index entry written)."""

from django.db import migrations

from bcp_project.migration_operations import fill_factor


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_user_switch_emails'),
    ]

    operations = [
        fill_factor('accounts', 'user', 50),
    ]
