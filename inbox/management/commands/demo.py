"""`DEBUG=1 manage.py demo`: migrate, seed, and serve the app with the platform sandbox (README's demo).

Runs Daphne (through `runserver`, which also serves static files in DEBUG) with the platform clients
pointed at the sandbox on the same server, SQLite, an in-memory channel layer and in-process tasks.
"""
from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start the demo: migrate, seed demo data, serve on http://HOST:PORT with the platform sandbox."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options):
        base = f"http://{host}:{port}"
        env = {
            **os.environ,
            "DEBUG": "1",
            "SANDBOX_ENABLED": "1",
            "PUBLIC_BASE_URL": base,
            "SANDBOX_APP_BASE_URL": base,
            "GRAPH_API_BASE": f"{base}/sandbox/graph/v25.0",
            "LINE_API_BASE": f"{base}/sandbox/line",
            "LINE_DATA_API_BASE": f"{base}/sandbox/line-data",
        }
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
        seeded = subprocess.run([*manage, "seed_demo"], env=env, check=True, capture_output=True, text=True)
        logins = [line.strip() for line in seeded.stdout.splitlines() if "login:" in line]
        self.stdout.write(self.style.SUCCESS("\nThe demo is starting."))
        self.stdout.write(f"  Inbox:              {base}/inbox/")
        self.stdout.write(f"  Customer simulator: {base}/sandbox/")
        self.stdout.write(f"  Admin:              {base}/admin/")
        for line in logins:
            self.stdout.write(f"  {line}")
        self.stdout.write("  Stop with Ctrl+C.\n")
        sys.stdout.flush()
        os.execve(sys.executable, [*manage, "runserver", "--noreload", f"{host}:{port}"], env)
