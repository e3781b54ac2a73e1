"""A served process keeps what it loaded at start-up out of the garbage collector's walks (config/startup.py)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_loading_the_asgi_app_freezes_the_loaded_objects():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}
    code = "import gc, config.asgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    frozen, walked = map(int, subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.split())
    assert frozen > 50_000 and walked < frozen / 10, (frozen, walked)
