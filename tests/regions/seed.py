"""The data of the region-loss tests (tests/regions/deployment.py runs it with `manage.py shell`): the demo's
tenants, people, contact-center data and plan, and Classics Inc. (North America) paired with Classics Inc. BCP
(Europe) as one succeeded sync leaves them. The sync is fabricated rather than run: the copies, their
correlations and a succeeded run in the backup's region, a team, a skill and a plan on the BCP tenant. The
region-loss tests are about losing the primary's region, not about the sync engine. Tailspin Travel (Asia
Pacific) gets an administrator of its own: the tenant of a region that stays up."""

from datetime import timedelta

from django.utils import timezone

from accounts import demo as accounts_demo
from accounts.models import Role, User
from accounts.roles import ADMINISTRATOR
from accounts.services import role_set_permissions, tenant_roles_create_defaults, user_create
from audit.services import Actor
from bcp_project.permissions import CHANGE_BCP_CONFIGURATIONS, CHANGE_BCP_ENABLEMENT
from bcp_project.regions.transactions import everywhere_atomic
from contactcenter import demo as contactcenter_demo
from contactcenter.models import Skill, Team
from continuity import demo as continuity_demo
from sync.models import Frequency, SyncConfiguration, SyncRun
from sync.services import sync_correlation_write
from tenants import demo as tenants_demo
from tenants.bcp.services import mapping_create, mapping_enable_secondary, passkey_hash

PRIMARY, BCP, OTHER = "Classics Inc.", "Classics Inc. BCP", "Tailspin Travel"
OTHER_ADMIN = "tailspin.admin"
BCP_TEAM, BCP_SKILL = "Backup Desk", "Backup Billing"


def seed(*, password: str, passkey: str) -> None:
    actor = Actor.system()
    with everywhere_atomic():
        tenants = tenants_demo.seed()
        people = accounts_demo.seed(tenants=tenants, password=password)
        contactcenter_demo.seed(tenants=tenants, people=people, password=password)
        primary, bcp, other = tenants[PRIMARY], tenants[BCP], tenants[OTHER]
        continuity_demo.seed(primary)

        other_roles = tenant_roles_create_defaults(tenant=other, actor=actor)
        user_create(username=OTHER_ADMIN, password=password, tenant=other, role=other_roles[ADMINISTRATOR],
                    first_name="Tara", last_name="Tailspin", actor=actor)

        mapping = mapping_create(primary=primary, secondary=bcp, region=bcp.region, passkey_hash=passkey_hash(passkey),
                                 configurations_enabled=True, enablement_enabled=True, actor=actor)
        mapping = mapping_enable_secondary(mapping=mapping, configurations_enabled=True, enablement_enabled=True,
                                           actor=actor)
        permissions = [CHANGE_BCP_CONFIGURATIONS, CHANGE_BCP_ENABLEMENT]
        bcp_roles = tenant_roles_create_defaults(tenant=bcp, actor=actor)
        for role in (Role.objects.get(tenant=primary, name=ADMINISTRATOR), bcp_roles[ADMINISTRATOR]):
            role_set_permissions(role=role, permissions=permissions, scope=permissions, actor=actor)

        # What the first sync leaves: a copy of every person, the correlations beside the copies (the roles' too,
        # which the people's link through), each with the hash of its copy as it is, a run. (So BC Enablement lists
        # no change made on the BCP tenant, and a switch back needs no choices.)
        now = timezone.now()
        primary_roles = dict(Role.objects.filter(tenant=primary).values_list("name", "pk"))
        for name, bcp_role in bcp_roles.items():
            if name in primary_roles:
                sync_correlation_write(mapping=mapping, entity_type="role", source_id=primary_roles[name],
                                       target_id=bcp_role.pk)
        for person in User.objects.filter(tenant=primary, is_bcp_copy=False).select_related("role"):
            copy = User.objects.create(
                username=person.username, password=person.password, first_name=person.first_name,
                last_name=person.last_name, email=person.email, language=person.language, tenant=bcp,
                is_bcp_copy=True, role=bcp_roles.get(person.role.name) if person.role_id else None)
            sync_correlation_write(mapping=mapping, entity_type="user", source_id=person.pk, target_id=copy.pk)
        Team.objects.create(tenant=bcp, name=BCP_TEAM)
        Skill.objects.create(tenant=bcp, name=BCP_SKILL)
        continuity_demo.seed(bcp)
        SyncConfiguration.objects.create(mapping=mapping, enabled=True, frequency=Frequency.DAILY, anchor_at=now,
                                         next_run_at=now + timedelta(days=1))
        SyncRun.objects.create(mapping=mapping, status=SyncRun.Status.SUCCEEDED, trigger=SyncRun.Trigger.FIRST,
                               started_at=now - timedelta(seconds=5), finished_at=now)
