import platform
import warnings
from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.test.utils import setup_databases, setup_test_environment, teardown_databases, teardown_test_environment
from django.utils.module_loading import import_string

from bcp_project.bench import BenchOutput
from bcp_project.regions.deadline import longer_deadline

# One line per section: a function `run(out)`, see bcp_project/bench.py.
BENCH_SECTIONS = [
    "tenants.bench.tenants_list",
    "contactcenter.bench.users_list",
    "sync.bench.sync_engine",
    "sync.bench_scheduling.dispatcher",
    "enablement.bench.switch",
]


class Command(BaseCommand):
    help = ("Time the pages that must stay fast with a lot of data, in a throw-away test database "
            "(never the real one): median and 95th percentile per request, and queries per request.")

    def add_arguments(self, parser):
        parser.add_argument("--tenants", type=int, default=10_000, help="Tenants to create (default: %(default)s).")
        parser.add_argument("--records", type=int, default=100_000,
                            help="Records of the primary the sync section copies (default: %(default)s).")
        parser.add_argument("--configurations", type=int, default=100_000,
                            help="Sync configurations the dispatcher section makes (default: %(default)s).")
        parser.add_argument("--due", type=int, default=10_000,
                            help="How many of them are due (default: %(default)s).")
        parser.add_argument("--repeat", type=int, default=30,
                            help="Timed requests per URL, after a short warm-up (default: %(default)s).")
        parser.add_argument("--section", action="append", default=[], metavar="DOTTED.PATH",
                            help="Run only this section (may be repeated); the default is all of them.")

    def handle(self, *args, tenants, repeat, section, verbosity, records, configurations, due, **options):
        if tenants < 1 or repeat < 1:
            raise CommandError("--tenants and --repeat must be at least 1.")
        unknown = sorted(set(section) - set(BENCH_SECTIONS))
        if unknown:
            raise CommandError(f"Unknown section(s): {', '.join(unknown)}. Known: {', '.join(BENCH_SECTIONS)}.")
        sections = section or BENCH_SECTIONS
        with longer_deadline(settings.REGION_LONG_DEADLINE), _throwaway_database(verbosity):
            self.stdout.write(f"bench: {connection.vendor} {connection.settings_dict['NAME']} (a throw-away test "
                              f"database), Python {platform.python_version()}, {repeat} timed requests per URL")
            for path in sections:
                self._run(path, {"tenants": tenants, "repeat": repeat, "records": records,
                                 "configurations": configurations, "due": due})

    def _run(self, path, options):
        out = BenchOutput(write=self.stdout.write, options=options, title=path)
        import_string(path)(out)
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING(out.title))
        for line in out.table() if out.rows else []:
            self.stdout.write(line)
        for line in getattr(out, "lines", []):
            self.stdout.write(line)


@contextmanager
def _throwaway_database(verbosity):
    # The same machinery as the test runner: a database migrated from scratch and dropped afterwards,
    # and 'testserver' allowed for the test client. It is called bench_<name> (in memory for SQLite), so
    # it never touches real data, nor the test_<name> database of a test run going on at the same time.
    # Every database: the control plane and each region's (a region server may be shared with a test run).
    for each in connections.all():
        if each.vendor != "sqlite":
            test_settings = each.settings_dict.setdefault("TEST", {})
            test_settings["NAME"] = f"bench_{each.settings_dict['NAME']}"
    setup_test_environment()
    # WhiteNoise's note that `collectstatic` has not run: true, and beside the point here.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    old_config = setup_databases(verbosity=max(verbosity - 1, 0), interactive=False)
    try:
        yield
    finally:
        teardown_databases(old_config, verbosity=max(verbosity - 1, 0))
        teardown_test_environment()
