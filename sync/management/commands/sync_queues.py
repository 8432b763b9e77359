"""Prints the queues a worker consumes, comma-separated, for `celery worker -Q` (Procfile, Makefile, CI): the
default queue and the sync queue of every region."""

from django.core.management.base import BaseCommand

from sync.services import worker_queues


class Command(BaseCommand):
    help = "The Celery queues a worker of this deployment consumes (for celery worker -Q)."

    def handle(self, *args, **options):
        self.stdout.write(",".join(worker_queues()))
