"""A served process keeps what it loaded at start-up out of the garbage collector's walks (config/startup.py)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_the_asgi_app(**env) -> tuple[int, int]:
    """(objects frozen, objects the collector walks) in a new process that imported config.asgi, as Daphne does."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", **env}
    code = "import gc, config.asgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    frozen, walked = map(int, subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.split())
    return frozen, walked


def test_loading_the_asgi_app_freezes_the_loaded_objects():
    frozen, walked = load_the_asgi_app()
    assert frozen > 50_000 and walked < frozen / 10, (frozen, walked)


def test_freezing_can_be_turned_off():
    frozen, walked = load_the_asgi_app(FREEZE_LOADED_OBJECTS="0")
    assert frozen == 0 and walked > 50_000, (frozen, walked)


def test_the_test_process_freezes_nothing():
    """Test modules import config.asgi (tests/conftest.py turns freezing off): what each test makes and drops must
    stay collectable."""
    import gc

    import config.asgi  # noqa: F401

    assert gc.get_freeze_count() == 0
