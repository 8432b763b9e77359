"""`migrate` for every database: the control plane first, then each region's (settings.REGION_DATABASES)."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Applies migrations to the control plane and to every region's database."

    def add_arguments(self, parser):
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(self, *args, interactive=True, verbosity=1, **options):
        for alias in ["default", *settings.REGION_DATABASES]:
            if verbosity:
                self.stdout.write(f"Database {alias}:")
            call_command("migrate", database=alias, interactive=interactive, verbosity=verbosity)
