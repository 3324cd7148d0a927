"""Where the app listens and what it tells Hugging Face Spaces about itself."""

import argparse
from importlib import metadata

import yaml

from app import serving
from tests.fakes import ROOT


def _args(host=None, port=None, share=False):
    return argparse.Namespace(host=host, port=port, share=share)


def test_spaces_and_docker_settings_are_used_unless_the_project_is_told_otherwise():
    space = {"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7861"}
    assert serving(_args(), {}) == ("127.0.0.1", 7860, False)
    assert serving(_args(), space) == ("0.0.0.0", 7861, False)
    ours = {**space, "CLARITYMENTOR_HOST": "127.0.0.2", "CLARITYMENTOR_PORT": "7999", "CLARITYMENTOR_SHARE": "1"}
    assert serving(_args(), ours) == ("127.0.0.2", 7999, True)
    assert serving(_args("localhost", 8000, True), ours) == ("localhost", 8000, True)  # flags win


def test_readme_front_matter_configures_a_gradio_space_with_the_installed_gradio():
    text = (ROOT / "README.md").read_text()
    assert text.startswith("---\n")
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py"
    assert meta["sdk_version"] == metadata.version("gradio")  # what requirements.txt resolves to
    assert meta["license"] == "apache-2.0" and (ROOT / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert {"title", "emoji", "colorFrom", "colorTo", "python_version", "short_description"} <= set(meta)
