#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bcp_project.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # A setting we cannot use is the person's to fix, not a bug: say what, without a traceback.
        sys.stderr.write(f"{error} Fix it in the environment or in this checkout's .env file (make run writes "
                         "one), then run the command again.\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
