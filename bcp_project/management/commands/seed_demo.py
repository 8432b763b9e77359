from django.core.management.base import BaseCommand

# Like bcp_project.urls, this command builds on the apps: the demo spans them (the import contract lists both).
from accounts import demo as accounts_demo
from bcp_project.regions.transactions import everywhere_atomic
from contactcenter import demo as contactcenter_demo
from continuity import demo as continuity_demo
from sync import demo as sync_demo
from tenants import demo as tenants_demo
from tenants.models import Tenant

DEFAULT_PASSWORD = "continuity-demo-2026"


class Command(BaseCommand):
    help = ("Load the demo data (idempotent: running it again with the same password changes nothing; with "
            "another --password, the demo accounts that are already there get it).")

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEFAULT_PASSWORD,
                            help="Password for every demo sign-in (default: %(default)s).")
        parser.add_argument("--if-empty", action="store_true",
                            help="Do nothing when the database already has tenants.")

    def handle(self, *args, password, if_empty, **options):
        if if_empty and Tenant.objects.exists():
            self.stdout.write("The database already has data; demo data not loaded.")
            return
        with everywhere_atomic():
            # One transaction in each database: a seed that fails part-way leaves every account with the
            # password it had.
            reset = accounts_demo.existing_usernames()
            tenants = tenants_demo.seed()
            people = accounts_demo.seed(tenants=tenants, password=password)
            contactcenter_demo.seed(tenants=tenants, people=people, password=password)
            continuity_demo.seed(tenants["Classics Inc."])  # before the first sync, which copies it to the BCP tenant
            sync_demo.seed(tenants=tenants)
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: {len(tenants)} tenants, {len(people)} sign-ins (password: {password})."))
        if reset:
            self.stdout.write(f"The demo accounts that were already there ({', '.join(reset)} and the generated "
                              "Classics Inc. staff) now have this password too.")
        self.stdout.write("Classics Inc. syncs daily to Classics Inc. BCP; the demo passkey is "
                          f"{sync_demo.DEMO_PASSKEY}.")
