"""Settings for the benchmarks: the project's, plus bench/urls.py (the bare signature-only endpoint that
benchmark 1 compares against). Only the benchmarks use this module; production never mounts the bare endpoint."""
from config.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls"
