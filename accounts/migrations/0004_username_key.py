"""Usernames are unique as sign-in compares them (NFKC, case-folded), not only by lower(): a stored key column
holds the constraints. Existing rows get their key here; look-alikes already stored stop the migration with
their names, for someone to rename one of them first."""

import unicodedata

from django.db import migrations, models
from django.db.models import Q

import accounts.models


def _key(username: str) -> str:
    # A copy of accounts.models.username_key as it is today: a migration must not follow later changes.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username or "").casefold())


def fill_keys(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    db = schema_editor.connection.alias
    seen: dict[tuple, str] = {}
    clashes, changed = [], []
    for user in User.objects.using(db).only("pk", "username", "tenant_id", "is_bcp_copy").order_by("pk").iterator():
        user.username_key = _key(user.username)
        changed.append(user)
        # The two constraints below: one name per tenant, and one person per name (the sync's copies aside).
        scopes = [("person", user.username_key)] if not user.is_bcp_copy else []
        if user.tenant_id is not None:
            scopes.append(("tenant", user.username_key, user.tenant_id))
        for scope in scopes:
            if scope in seen and seen[scope] != user.username:
                clashes.append(f"“{seen[scope]}” and “{user.username}”")
            seen.setdefault(scope, user.username)
    if clashes:
        raise RuntimeError("These usernames look alike and would sign in as one: " + "; ".join(sorted(set(clashes)))
                           + ". Rename one of each pair, then migrate again.")
    User.objects.using(db).bulk_update(changed, ["username_key"], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_usernames_unique_per_person"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_key",
            field=accounts.models.UsernameKeyField(default="", editable=False, verbose_name="username key"),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="user", name="user_username_unique_per_tenant"),
        migrations.RemoveConstraint(model_name="user", name="user_username_unique_person"),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint("username_key", "tenant", name="user_username_unique_per_tenant"),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint("username_key", condition=Q(("is_bcp_copy", False)),
                                               name="user_username_unique_person"),
        ),
    ]
