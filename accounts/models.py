import unicodedata

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from bcp_project.permissions import is_account_representative


class Role(models.Model):
    """A tenant's role (Administrator, Supervisor, Agent, ...).

    Each role owns one Django group; the role's permissions are django-guardian object permissions
    on its tenant, granted to that group.
    """

    ENTITY_TYPE = "role"  # the sync's key for roles, in its correlations and tombstones
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="roles",
                               verbose_name=_("tenant"))
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=255, blank=True)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="role", editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [
            models.UniqueConstraint("tenant", Lower("name"), name="role_name_unique_per_tenant"),
        ]

    def __str__(self):
        return self.name


def username_key(username: str) -> str:
    """How usernames compare, on saving and on signing in: Unicode NFKC and case-folded, so that "ａｇｅｎｔ"
    (full-width), "AGENT" and "agent" are one name, and so are "Straße" and "STRASSE"."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username or "").casefold())


class UsernameKeyField(models.TextField):
    """The username's comparison key, filled from the username on every save and every bulk_create (Django asks
    a field's pre_save for each row it inserts). Writes that bypass both (a queryset's update(), bulk_update(),
    the sync's raw inserts) set it themselves with username_key()."""

    def pre_save(self, model_instance, add):
        value = username_key(model_instance.username)
        setattr(model_instance, self.attname, value)
        return value


class User(AbstractUser):
    """A person who signs in. Platform staff have no tenant; everyone else belongs to exactly one.

    One login URL means a username names one person on the whole platform. The only exception are the
    copies the sync makes on a BCP tenant (`is_bcp_copy`): same username and password hash as the
    person on the primary, one copy per tenant at most.
    """

    ENTITY_TYPE = "user"  # the sync's key for users (with their agent settings), as AgentProfile's
    username = models.CharField(
        _("username"), max_length=150, validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @/./+/-/_ only."),
    )
    tenant = models.ForeignKey("tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="users", verbose_name=_("tenant"))
    role = models.ForeignKey(Role, null=True, blank=True, on_delete=models.PROTECT, related_name="users",
                             verbose_name=_("role"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    is_bcp_copy = models.BooleanField(_("copy on the BCP tenant"), default=False, editable=False,
                                      help_text=_("Made by the sync from the same person on the primary tenant."))
    # My Profile: whether the person hears by email that their organization switched between its primary and
    # its BCP tenant. Set on every account of the person at once (accounts.services.user_set_switch_emails).
    switch_emails = models.BooleanField(_("email me when my organization switches tenant"), default=True,
                                        db_default=True)  # rows written by SQL (the bench, an operator) too
    # What the unique constraints hold: look-alike usernames (full-width letters, another case) are one name.
    username_key = UsernameKeyField(_("username key"), editable=False, default="")

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint("username_key", "tenant", name="user_username_unique_per_tenant"),
            models.UniqueConstraint("username_key", condition=Q(is_bcp_copy=False),
                                    name="user_username_unique_person"),
            models.CheckConstraint(condition=Q(is_bcp_copy=False) | Q(tenant__isnull=False, is_staff=False,
                                                                       is_superuser=False),
                                   name="user_bcp_copy_is_a_plain_tenant_user"),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        """How the pages, notices and emails name a person: the full name, else the username."""
        return self.get_full_name() or self.get_username()

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields and "username_key" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "username_key"]
        super().save(*args, **kwargs)

    @property
    def is_account_representative(self) -> bool:
        return is_account_representative(self)
