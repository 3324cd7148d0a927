"""The app started the way a Hugging Face Space starts it: SPACE_ID set, host and port from
GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, no command-line flags, every model loaded by its
hub id from the Hugging Face cache. The cache is filled offline from the embedded
packages, under the hub ids the space profile names."""

import os
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from claritymentor.config import load_config
from claritymentor.llm_loading import dequantised_gguf_dir
from claritymentor.models_paths import minilm_dir, smollm2_gguf, whisper_tiny_en_dir
from tests.fakes import free_port, running_app

pytestmark = pytest.mark.slow

REVISION = "0" * 40


def _snapshot(cache: Path, repo_id: str, source: Path) -> None:
    """``source``'s files as the cached snapshot of ``repo_id`` (huggingface_hub's layout)."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    for path in source.rglob("*"):
        if path.is_file():
            target = repo / "snapshots" / REVISION / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(REVISION)


@pytest.fixture(scope="module")
def space_url(tmp_path_factory, config):
    space = load_config("space")
    cache = tmp_path_factory.mktemp("hf") / "hub"
    _snapshot(cache, space.llm.model, dequantised_gguf_dir(smollm2_gguf(), Path(config.cache_dir)))
    _snapshot(cache, space.stt.model, whisper_tiny_en_dir())
    _snapshot(cache, space.text_emotion.model, minilm_dir())
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLARITYMENTOR_")}
    env.update(SPACE_ID="someone/claritymentor", GRADIO_SERVER_NAME="0.0.0.0", GRADIO_SERVER_PORT=str(port),
               HF_HUB_CACHE=str(cache), HF_HUB_OFFLINE="1")
    log = tmp_path_factory.mktemp("space-app") / "app.log"
    with running_app(port, log, env=env) as url:  # no flags: host and port come from GRADIO_SERVER_*
        yield url, log


def test_a_space_serves_claritymentor_from_hub_ids_on_its_own_host_and_port(space_url, question_wav):
    url, log = space_url
    assert "Running on local URL:  http://0.0.0.0:" in log.read_text()  # GRADIO_SERVER_NAME was used
    c = Client(url, verbose=False)
    health = c.predict(api_name="/health")
    names = {m["stage"]: m["name"] for m in health["models"]}
    assert health["profile"] == "space"
    assert names["llm"] == "HuggingFaceTB/SmolLM2-135M-Instruct + LoRA (claritymentor-lora)"
    assert names["speech-to-text"] == "Systran/faster-whisper-tiny.en"
    chat, *_ = c.predict(handle_file(str(question_wav)), True, api_name="/voice_turn")
    assert "exams next week" in str(chat[0]["content"]).lower()
    chat, *_ = c.predict("Thanks. What could I do tonight to sleep better?", True, api_name="/text_turn")
    turns = c.predict(api_name="/history")["turns"]
    assert [t["source"] for t in turns] == ["voice", "text"]
    assert all(t["model"].endswith("+ LoRA (claritymentor-lora)") and t["reply_text"] for t in turns)
