import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from bcp_project.exceptions import ApplicationError


class Command(BaseCommand):
    help = ("Create a primary tenant (North America) with about N contact-center records across all types, "
            "for benchmarks. Generated users share one password, or have none.")

    def add_arguments(self, parser):
        parser.add_argument("--records", type=int, required=True, help="About how many rows to create in all.")
        parser.add_argument("--tenant-name", default="",
                            help="Name of the new tenant (default: “Scale <N> <date and time>”).")
        parser.add_argument("--password", default="",
                            help="Password for every generated user (default: none; they cannot sign in).")
        parser.add_argument("--with-bcp", action="store_true",
                            help="Also create its BCP tenant (Europe), mapped to it; the passkey is printed once.")

    def handle(self, *args, records, tenant_name, password, with_bcp, **options):
        from contactcenter.scale import Plan, generate, scale_tenant_create

        if records < 1:
            raise CommandError("--records must be at least 1.")
        name = tenant_name or f"Scale {records} {timezone.now():%Y-%m-%d %H:%M:%S}"
        plan = Plan.for_records(records)
        started = time.perf_counter()
        try:
            tenant = scale_tenant_create(name=name)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Tenant “{tenant.name}” (id {tenant.pk}); about {plan.row_count():,} rows planned.")
        # Usernames name one person on the whole platform: each generated tenant gets its own prefix.
        prefix = f"{tenant.pk.hex[:8]}.user"
        counts = generate(tenant=tenant, plan=plan, password=password or None, username_prefix=prefix,
                          progress=lambda message: self.stdout.write(f"  … {message}"))
        seconds = time.perf_counter() - started
        self.stdout.write("Created:")
        for kind, count in counts.items():
            self.stdout.write(f"  {kind:<20} {count:>9,}")
        self.stdout.write(self.style.SUCCESS(f"  {'total':<20} {sum(counts.values()):>9,}  in {seconds:.1f} s"))
        self.stdout.write(f"Usernames: {prefix}000000, {prefix}000001, …")
        if with_bcp:
            from contactcenter.scale import scale_bcp_create

            mapping, passkey = scale_bcp_create(primary=tenant)
            self.stdout.write(f"BCP tenant “{mapping.secondary.name}” (id {mapping.secondary_id}), mapped.")
            self.stdout.write(f"Passkey (shown only now; keep it to switch): {passkey}")
