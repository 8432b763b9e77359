"""`migrate` for every database: the control plane first, then each region's (settings.REGION_DATABASES)."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from bcp_project.regions.deadline import longer_deadline


class Command(BaseCommand):
    help = "Applies migrations to the control plane and to every region's database."

    def add_arguments(self, parser):
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(self, *args, interactive=True, verbosity=1, **options):
        for alias in ["default", *settings.REGION_DATABASES]:
            if verbosity:
                self.stdout.write(f"Database {alias}:")
            # A migration may rewrite a big table: longer than a page's deadline, still bounded.
            with longer_deadline(settings.REGION_LONG_DEADLINE):
                call_command("migrate", database=alias, interactive=interactive, verbosity=verbosity)
