"""Start the app as a user would (``python app.py``) and wait until it serves: for the
tests (``tests/conftest.py``, the Space test) and ``scripts/bench_browser.py``."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from claritymentor.config import ROOT


def wait_until(predicate, timeout_s: float, what: str, interval_s: float = 0.5):
    """Poll ``predicate`` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # not ready yet
            last_error = e
        time.sleep(interval_s)
    raise TimeoutError(f"{what} not ready after {timeout_s:.0f} s (last error: {last_error})")


@contextlib.contextmanager
def running_app(port: int, log: Path, args: tuple[str, ...] = (), env: dict | None = None):
    """``python app.py`` started as a user (or a Space) would, its output in ``log``; yields
    its local URL once it serves, and stops it afterwards."""
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "app.py", *args], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def ready():
        if proc.poll() is not None:
            return "exited"
        return urllib.request.urlopen(url, timeout=2).status == 200

    try:
        state = wait_until(ready, 240, "the app")
    except TimeoutError:
        state = "timed out"
    if state is not True:
        proc.kill()
        raise RuntimeError(f"app {state}:\n" + log.read_text()[-3000:])
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
