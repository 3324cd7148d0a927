import pytest

from claritymentor.config import EMOTIONS, load_config
from claritymentor.errors import ConfigError
from tests.fakes import config_copy


def test_embedded_profile_is_the_default(monkeypatch):
    monkeypatch.delenv("CLARITYMENTOR_PROFILE", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    cfg = load_config()
    assert cfg.profile == "embedded"
    assert cfg.stt.model == "embedded" and cfg.llm.model == "embedded"
    assert [e for e, _ in cfg.prompts.emotions] == list(EMOTIONS)
    hash(cfg)  # the cached factory keys on it


def test_hub_profile_overrides_models_and_keeps_defaults():
    cfg = load_config("hub")
    assert cfg.stt.model == "distil-whisper/distil-medium.en"
    assert cfg.text_emotion.backend == "transformers"
    assert cfg.text_emotion.model == "j-hartmann/emotion-english-distilroberta-base"
    assert cfg.audio.max_duration_s == load_config("embedded").audio.max_duration_s


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("CLARITYMENTOR_PROFILE", "hub")
    assert load_config().profile == "hub"


def test_unknown_profile_lists_choices():
    with pytest.raises(ConfigError, match=r"unknown profile 'gpu'; choose one of \['embedded', 'hub', 'space'\]"):
        load_config("gpu")


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("    threshold: 0.5\n", "    threshold: 0.5\n    treshold: 0.4\n", r"vad: unknown key\(s\) \['treshold'\]"),
        ("    beam_size: 1\n", "    beam_size: one\n", r"stt.beam_size: expected int, got 'one'"),
        ("    backend: pyttsx3\n", "    backend: festival\n", r"tts.backend is 'festival'; choose one of \['pyttsx3'\]"),
        ("    base_volume: 0.9 ", "    base_volume: 4.0 ", r"tts.base_volume must be between 0.0 and 1.0"),
        ("    max_duration_s: 60.0", "    max_duration_s: 0.1", r"min_speech_s must be > 0 and < max_duration_s"),
    ],
)
def test_invalid_voice_config_says_what_to_fix(tmp_path, old, new, message):
    d = config_copy(tmp_path)
    text = (d / "voice_config.yaml").read_text()
    assert old in text
    (d / "voice_config.yaml").write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError, match=message):
        load_config("embedded", config_dir=d)


def test_missing_emotion_in_prompts_is_reported(tmp_path):
    d = config_copy(tmp_path)
    text = (d / "emotion_prompts.yaml").read_text()
    start = text.index("  surprise:")
    (d / "emotion_prompts.yaml").write_text(text[:start])
    with pytest.raises(ConfigError, match=r"missing \['surprise'\]"):
        load_config("embedded", config_dir=d)


def test_broken_yaml_is_reported(tmp_path):
    d = config_copy(tmp_path)
    (d / "voice_config.yaml").write_text("defaults: [unclosed\n")
    with pytest.raises(ConfigError, match="voice_config.yaml is not valid YAML"):
        load_config("embedded", config_dir=d)


def test_a_space_runs_claritymentor_itself_by_hub_id(monkeypatch):
    monkeypatch.delenv("CLARITYMENTOR_PROFILE", raising=False)
    monkeypatch.setenv("SPACE_ID", "someone/claritymentor")
    cfg = load_config()
    assert cfg.profile == "space"
    assert cfg.llm.model == "HuggingFaceTB/SmolLM2-135M-Instruct" and cfg.llm.use_adapter  # the adapter's base
    assert cfg.stt.model == "Systran/faster-whisper-tiny.en"
    assert cfg.text_emotion.model == cfg.crisis.encoder == "sentence-transformers/all-MiniLM-L6-v2"
    assert cfg.text_emotion.encoder_adapter and cfg.crisis.encoder_adapter  # the fine-tuned encoders apply too
