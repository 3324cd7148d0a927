"""Shared fixtures: espeak-ng speech, the real embedded pipeline (loaded once per test
session), and the launched app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from claritymentor.devtools.speech import espeak_wav
from tests.fakes import ROOT, free_port, wait_until

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")



@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def question_wav(speech_dir) -> Path:
    return espeak_wav(speech_dir / "question.wav",
                      "I am worried about my exams next week and I cannot sleep.")


@pytest.fixture(scope="session")
def config():
    from claritymentor.config import load_config

    return load_config("embedded")


@pytest.fixture(scope="session")
def loaded(config):
    """The real embedded pipeline, loaded once for the whole test session."""
    from claritymentor.factory import get_pipeline

    return get_pipeline(config)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """The real app, started as a user would (python app.py), on a free port."""
    import urllib.request

    port = free_port()
    log = tmp_path_factory.mktemp("app") / "app.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, stdout=out,
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
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
