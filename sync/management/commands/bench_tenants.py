"""Many BCP pairs syncing continuously under a steady trickle of changes, against real Celery processes.

Run it on databases of its own (it makes PAIRS tenants and their BCP tenants, and keeps them for the next run):

    DATABASE_URL=… REGION_DATABASE_URLS=… REDIS_URL=… \
        python manage.py bench_tenants --pairs 100 --records 1000

It starts --workers worker processes (each one task at a time, on every queue, as `make run`'s worker consumes)
and beat, then changes --rate of each pair's records per minute (1% by default) for --minutes, at an even pace,
one record at a time through the ORM from four threads (the signal path a service takes; a tag, team or skill of
the pair). A change has reached the backup when a run of its pair whose snapshot (SyncRun.source_as_of) is later
than the change's commit has committed: its latency is that run's end minus the change's commit. Every 5 s it
samples what waits (changes marked, queued runs, broker messages) and the CPU each kind of process used, so the
limit shows.
"""

import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

ROOT = Path(settings.BASE_DIR)
TICKS = os.sysconf("SC_CLK_TCK")
CHANGERS = 4  # threads making the changes


def _cpu_seconds(pids, *, reaped: bool = False) -> float:
    """CPU seconds of these processes; with `reaped`, also of their children that have ended (a PostgreSQL
    server's postmaster reaps every backend, so its count holds every connection's)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += sum(int(value) for value in fields[11:15 if reaped else 13]) / TICKS
    return total


def _region_servers() -> list[int]:
    """The postmaster of each region's PostgreSQL server (the parent of this connection's backend)."""
    from django.db import connections

    from bcp_project.regions import aliases

    found = set()
    for alias in aliases():
        if connections[alias].vendor == "postgresql":
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend = cursor.fetchone()[0]
            found.add(int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1]))
    return sorted(found)


def _pids(pattern: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if pattern in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="ignore"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _process_tree(root: int) -> list[int]:
    children = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[parent].append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children[pid]
    return tree


class Command(BaseCommand):
    help = ("Many pairs in continuous mode, a share of each pair's records changing every minute, against real "
            "worker and beat processes: the latency from a change's commit to its backup's, what waits, and the CPU "
            "each kind of process used.")

    def add_arguments(self, parser):
        parser.add_argument("--pairs", type=int, default=1000)
        parser.add_argument("--records", type=int, default=1000, help="records of each primary (about)")
        parser.add_argument("--rate", type=float, default=0.01, help="share of each pair's records changed a minute")
        parser.add_argument("--minutes", type=float, default=3.0, help="how long the changes go on")
        parser.add_argument("--workers", type=int, default=2, help="worker processes, one task at a time each")
        parser.add_argument("--drain", type=float, default=180.0, help="seconds to wait for the last changes")

    def handle(self, *args, pairs, records, rate, minutes, workers, drain, **options):
        from sync.models import SyncRun

        self.records = records
        mappings = self._seed(pairs, records)
        folder = Path(tempfile.mkdtemp(prefix="bcp-bench-tenants-"))
        processes = self._start(workers, folder)
        try:
            self._wait_first_syncs(mappings)
            self._wait_quiet(mappings, drain, [])  # the first copies' own follow-ups: the load starts on a quiet system
            changes, samples = self._load(mappings, rate, minutes)
            self._wait_quiet(mappings, drain, samples)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
        self._report(mappings, changes, samples, pairs, records, rate, minutes, workers, SyncRun)

    # --- seed ---------------------------------------------------------------------------------------------------

    def _seed(self, pairs: int, records: int):
        from audit.services import Actor
        from bcp_project.regions import in_region
        from contactcenter.scale import Plan, generate, scale_bcp_create, scale_tenant_create
        from sync.models import Frequency, SyncConfiguration
        from sync.services import sync_settings_save
        from tenants.models import BcpMapping, Tenant

        started = time.monotonic()
        mappings = []
        for n in range(pairs):
            name = f"Bench pair {n:05d}"
            primary = Tenant.objects.filter(name=name).first()
            if primary is None:
                primary = scale_tenant_create(name=name)
                with in_region(primary):
                    generate(tenant=primary, plan=Plan.for_records(records), password=None,
                             username_prefix=f"bench{n:05d}.")
                mapping, _passkey = scale_bcp_create(primary=primary)
            else:
                mapping = BcpMapping.objects.get(primary=primary)
            configuration, _created = SyncConfiguration.objects.get_or_create(mapping=mapping)
            now = timezone.now()
            if not configuration.enabled:
                SyncConfiguration.objects.filter(pk=configuration.pk).update(
                    enabled=True, anchor_at=now, next_run_at=now)  # the dispatcher queues its first sync
            configuration.refresh_from_db()
            if configuration.frequency != Frequency.CONTINUOUS:
                sync_settings_save(configuration=configuration, frequency=Frequency.CONTINUOUS, custom=False,
                                   entity_types=[], actor=Actor.system())
            mappings.append(mapping)
            if (n + 1) % 50 == 0:
                self.stdout.write(f"  {n + 1} pairs ready ({time.monotonic() - started:.0f} s)")
        self.stdout.write(f"{pairs} pairs of about {records} records ready in {time.monotonic() - started:.0f} s")
        return mappings

    def _start(self, workers: int, folder: Path):
        from sync.services import worker_queues

        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        queues = ",".join(worker_queues())
        processes = []
        for n in range(workers):
            log = open(folder / f"worker{n}.log", "w")  # noqa: SIM115 - closed with the process
            processes.append(subprocess.Popen(  # noqa: S603 - our own command line
                [sys.executable, "-m", "celery", "-A", "bcp_project", "worker", "-Q", queues, "--pool=solo",
                 "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
                 "-n", f"bench{n}@%h"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        log = open(folder / "beat.log", "w")  # noqa: SIM115
        processes.append(subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, "-m", "celery", "-A", "bcp_project", "beat", f"--schedule={folder / 'schedule'}",
             "--loglevel=WARNING"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        self.workers = [p.pid for p in processes[:-1]]
        self.servers = _region_servers()
        self.control = settings.DATABASES["default"]["NAME"]
        deadline = time.monotonic() + 120
        while sum("ready." in (folder / f"worker{n}.log").read_text() for n in range(workers)) < workers:
            if time.monotonic() > deadline:
                raise CommandError(f"the workers did not start; see {folder}")
            time.sleep(0.5)
        self.beat = processes[-1].pid
        self.stdout.write(f"started {workers} workers and beat (logs in {folder})")
        return processes

    def _wait_first_syncs(self, mappings):
        from sync.models import SyncRun

        started = time.monotonic()
        ids = [m.pk for m in mappings]
        while True:
            done = sum(SyncRun.objects.using(alias).filter(mapping_id__in=ids, status=SyncRun.Status.SUCCEEDED)
                       .values("mapping_id").distinct().count() for alias in ("eu",))
            if done >= len(ids):
                break
            if time.monotonic() - started > 60 + 10 * len(ids):
                raise CommandError(f"only {done} of {len(ids)} pairs have a first copy; see the worker logs")
            time.sleep(2)
        self.stdout.write(f"every pair has its first copy ({time.monotonic() - started:.0f} s)")

    # --- load ---------------------------------------------------------------------------------------------------

    def _records(self, mappings):
        from contactcenter.models import Skill, Tag, Team

        found = {}
        for mapping in mappings:
            rows = [(model, pk) for model in (Tag, Team, Skill)
                    for pk in model.objects.using("na").filter(tenant_id=mapping.primary_id)
                    .values_list("pk", flat=True)]
            found[mapping.pk] = (mapping.primary_id, rows)
        return found

    def _sample(self, samples, started):
        from bcp_project.celery import app
        from sync.models import Frequency, SyncConfiguration, SyncRun
        from sync.services import worker_queues

        waiting = 0
        with app.connection_for_read() as conn:
            for name in worker_queues():
                try:
                    waiting += conn.default_channel.queue_declare(name, passive=True).message_count
                except Exception:  # noqa: BLE001, S112 - a queue nobody declared yet holds nothing
                    continue
        samples.append({
            "t": time.monotonic() - started,
            "marked": SyncConfiguration.objects.filter(frequency=Frequency.CONTINUOUS,
                                                       changes_pending_since__isnull=False).count(),
            "running": SyncRun.objects.using("eu").filter(status=SyncRun.Status.RUNNING).count(),
            "queued": SyncRun.objects.using("eu").filter(status=SyncRun.Status.QUEUED).count(),
            "messages": waiting,
            "cpu_workers": sum(_cpu_seconds(_process_tree(pid)) for pid in self.workers),
            "cpu_beat": _cpu_seconds([self.beat]),
            # The regions' servers whole (they serve only this deployment, here); the control plane's server may
            # be shared, so only the connections to its database that are open (their titles name it).
            "cpu_postgres": _cpu_seconds(self.servers, reaped=True) + _cpu_seconds(
                [pid for pid in _pids(f"postgres {self.control} ")]),
            "cpu_self": _cpu_seconds([os.getpid()]),
        })

    def _load(self, mappings, rate, minutes):
        from contactcenter.scale import Plan

        records = self._records(mappings)
        per_second = len(mappings) * Plan.for_records(self.records).row_count() * rate / 60
        total = int(per_second * minutes * 60)
        self.stdout.write(f"changing {total} records in {minutes} min ({per_second:.1f} a second)")
        changes, samples = [], []
        started = time.monotonic()
        next_sample = 0.0
        pairs = list(records)

        waiting = threading.BoundedSemaphore(CHANGERS * 4)  # behind the pace: wait, rather than queue up the rest

        def change(mapping_id, model, pk):
            try:
                model.objects.using("na").get(pk=pk).save()  # a save: its signal, as a service's
                changes.append((mapping_id, timezone.now()))
            finally:
                waiting.release()

        # A few threads, as the people making the changes are many: one alone waits on each save's round trips and
        # falls behind the pace on a busy machine.
        with ThreadPoolExecutor(max_workers=CHANGERS) as pool:
            for n in range(total):
                due = started + n / per_second
                while True:
                    if time.monotonic() - started >= next_sample:  # also when the changes fall behind their pace
                        self._sample(samples, started)
                        next_sample += 5
                    if time.monotonic() >= due:
                        break
                    time.sleep(min(0.05, max(0.0, due - time.monotonic())))
                mapping_id = random.choice(pairs)  # noqa: S311 - load, not security
                _tenant, rows = records[mapping_id]
                model, pk = random.choice(rows)  # noqa: S311
                waiting.acquire()
                pool.submit(change, mapping_id, model, pk)
        self._sample(samples, started)
        self.load_seconds = time.monotonic() - started
        return changes, samples

    def _wait_quiet(self, mappings, drain, samples):
        from sync.models import SyncConfiguration, SyncRun

        started = time.monotonic()
        while time.monotonic() - started < drain:
            marked = SyncConfiguration.objects.filter(changes_pending_since__isnull=False).exists()
            active = SyncRun.objects.using("eu").filter(status__in=SyncRun.ACTIVE).exists()
            if not marked and not active:
                break
            time.sleep(1)
        self.drained = time.monotonic() - started

    # --- report ---------------------------------------------------------------------------------------------------

    def _report(self, mappings, changes, samples, pairs, records, rate, minutes, workers, SyncRun):
        ids = [m.pk for m in mappings]
        first_change = min(t for _m, t in changes)
        runs = defaultdict(list)
        for mapping_id, as_of, finished, started_at in SyncRun.objects.using("eu").filter(
                mapping_id__in=ids, status=SyncRun.Status.SUCCEEDED, source_as_of__isnull=False,
                finished_at__gte=first_change - timedelta(seconds=1)).values_list(
                "mapping_id", "source_as_of", "finished_at", "started_at"):
            runs[mapping_id].append((as_of, finished, started_at))
        latencies, missing = [], 0
        for mapping_id, committed in changes:
            reached = [finished for as_of, finished, _s in runs[mapping_id] if as_of >= committed]
            if reached:
                latencies.append((min(reached) - committed).total_seconds())
            else:
                missing += 1
        all_runs = [run for each in runs.values() for run in each]
        durations = [(finished - began).total_seconds() for _a, finished, began in all_runs if began]
        window = self.load_seconds
        first, last = samples[0], samples[-1]
        cpu = {key: last[key] - first[key] for key in ("cpu_workers", "cpu_beat", "cpu_postgres", "cpu_self")}

        def pct(values, q):
            return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]

        out = self.stdout.write
        out("")
        out(f"Continuous mode, {pairs} pairs of about {records} records, {rate:.1%} of each changed a minute for "
            f"{minutes} min, {workers} workers (one task at a time each), beat; {len(changes)} changes")
        if latencies:
            within = sum(1 for x in latencies if x <= 60) / len(changes)
            out(f"change committed → committed on its backup: median {statistics.median(latencies):.2f} s, 95th "
                f"percentile {pct(latencies, 95):.2f} s, max {max(latencies):.2f} s; {within:.1%} within 60 s "
                f"(target: every change), {missing} not copied when the bench stopped waiting")
        per_run = len(changes) / max(len(all_runs), 1)
        out(f"runs: {len(all_runs)} ({len(all_runs) / max(window, 1):.2f} a second; {per_run:.1f} changes a run); "
            f"a run took median {statistics.median(durations):.3f} s, 95th percentile {pct(durations, 95):.3f} s"
            if durations else "runs: none")
        out("waiting (every 5 s: changes marked / runs queued / broker messages): "
            + ", ".join(f"{s['marked']}/{s['queued']}/{s['messages']}" for s in samples))
        busy = cpu["cpu_workers"] / max(window, 1)
        out(f"the changes took {window:.0f} s ({len(changes) / window:.1f} a second; asked: {minutes * 60:.0f} s)")
        out(f"CPU over the {window:.0f} s of changes (2 cores = 200%): workers {100 * busy:.0f}%, PostgreSQL "
            f"{100 * cpu['cpu_postgres'] / window:.0f}%, this bench (the changes) "
            f"{100 * cpu['cpu_self'] / window:.0f}%, "
            f"beat {100 * cpu['cpu_beat'] / window:.0f}%; the last changes drained in {self.drained:.0f} s")
        if durations:
            capacity = workers / statistics.mean(durations)
            out(f"capacity: {workers} workers × 1 / {statistics.mean(durations):.3f} s a run = {capacity:.1f} runs a "
                f"second; each pair needs a run at most every CONTINUOUS_CAP while it changes")
