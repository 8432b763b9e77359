import factory
from django.conf import settings
from factory.django import DjangoModelFactory

from accounts.models import User
from audit.services import Actor
from tenants.models import Region, Tenant

PASSWORD = "correct-horse-battery"


REGION_NAMES = {"na": "North America", "eu": "Europe", "apac": "Asia Pacific"}


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    # Regions are configuration (settings.REGION_DATABASES): a factory region is one of those, in turn.
    code = factory.Sequence(lambda n: settings.REGION_DATABASES[n % len(settings.REGION_DATABASES)])
    name = factory.LazyAttribute(lambda region: REGION_NAMES.get(region.code, region.code))


class TenantFactory(DjangoModelFactory):
    """A tenant with its default roles, made through the same service the TM page uses."""

    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n:05d}")
    region = factory.SubFactory(RegionFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from tenants.services import tenant_create

        status = kwargs.pop("status", None)
        tenant = tenant_create(name=kwargs["name"], region=kwargs["region"], actor=Actor.system())
        if status:
            tenant.status = status
            tenant.save(update_fields=["status"])
        return tenant


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def role_of(tenant, name):
    return tenant.roles.get(name=name)
