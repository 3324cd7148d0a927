"""Shared fixtures: espeak-ng speech, the real embedded pipeline (loaded once per test
session), and the launched app."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from claritymentor.devtools.speech import espeak_wav
from tests.fakes import free_port, running_app

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
    port = free_port()
    with running_app(port, tmp_path_factory.mktemp("app") / "app.log", ("--port", str(port))) as url:
        yield url
