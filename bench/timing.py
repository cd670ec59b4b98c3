"""What the start-up benchmarks share: the wall time of one command run as a fresh process."""

from __future__ import annotations

import subprocess
import time


def wall(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from start to exit of ``argv`` in a new process with ``env`` (its output discarded)."""
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started
