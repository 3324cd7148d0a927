"""The launched app (python app.py) through gradio_client, as an API user sees it."""

import numpy as np
import pytest
import soundfile as sf
from gradio_client import Client, handle_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def test_voice_then_text_turn_in_one_session(client, question_wav):
    chat, audio, timeline, summary, timings, last, details, notice, feed = client.predict(
        handle_file(str(question_wav)), True, api_name="/voice_turn")
    assert "exams next week" in str(chat[0]["content"]).lower()
    assert details["perceived"]["emotion"] and details["voice"] is not None
    assert audio and audio.endswith(".wav")
    assert "LLM" in last
    assert "1: **" in summary
    assert len(timings["data"]) == 1

    chat, *_ = client.predict("Thanks, that helps. Any tip for the morning of the exam?", True,
                              api_name="/text_turn")
    assert len(chat) == 4

    history = client.predict(api_name="/history")
    assert [t["source"] for t in history["turns"]] == ["voice", "text"]
    assert all(t["reply_text"] for t in history["turns"])
    assert set(history["turns"][0]["timings_ms"]) == {"vad", "stt", "emotion", "llm", "tts", "total"}


def test_reply_streams_pieces_with_audio_before_the_turn_ends(app_url):
    """The streamed path as an API client sees it: the transcript first, then each reply
    piece as it is ready (text in the chat, a WAV for the page's player), then the turn."""
    import base64
    import io
    import json

    c = Client(app_url, verbose=False)
    job = c.submit("My manager criticised my work today and I feel useless. How do I move on from it?", True,
                   api_name="/text_turn")
    updates = [u for u in job]  # every yield, in order
    final = job.result()

    def last_reply(update):
        content = update[0][-1]["content"]
        return content if isinstance(content, str) else " ".join(part["text"] for part in content)

    feeds = []
    for u in updates[:-1]:
        if isinstance(u[-1], str) and u[-1] not in [f for f, _ in feeds]:
            feeds.append((u[-1], last_reply(u)))
    msgs = [json.loads(f) for f, _ in feeds]
    assert len(msgs) >= 2, "the reply should reach the client in several audio pieces"
    assert [m["seq"] for m in msgs] == list(range(len(msgs)))
    assert {m["turn"] for m in msgs} == {1}  # a new client's first reply: live state is per session
    for m in msgs:
        data, rate = sf.read(io.BytesIO(base64.b64decode(m["wav"])))
        assert rate == 22050 and len(data) > 0.2 * rate and np.abs(data).max() > 0.05
    # the first piece arrived while the reply was still being written, before the final update
    first_text, final_text = feeds[0][1], last_reply(final)
    assert first_text.endswith("…") and len(first_text) < len(final_text)
    assert final_text.startswith(first_text.rstrip(" …"))


def test_second_client_has_its_own_empty_history(app_url, client):
    other = Client(app_url, verbose=False)
    assert other.predict(api_name="/history")["turns"] == []


def test_bad_input_gets_a_message_and_keeps_the_history(app_url, tmp_path):
    c = Client(app_url, verbose=False)
    c.predict("Hello mentor, I have a question about my internship.", True, api_name="/text_turn")
    not_audio = tmp_path / "report.pdf"
    not_audio.write_bytes(b"%PDF-1.4 not really audio" * 100)
    click = tmp_path / "click.wav"
    sf.write(click, np.ones(3200, np.float32) * 0.5, 16000)
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(32000, np.float32), 16000)
    stereo = tmp_path / "stereo48k.wav"
    sf.write(stereo, np.zeros((48000 * 2, 2), np.float32), 48000)
    cases = [
        ("/text_turn", ("   ", True), "empty"),
        ("/voice_turn", (handle_file(str(not_audio)), True), "could not be read as audio"),
        ("/voice_turn", (handle_file(str(click)), True), "0.20 s long"),
        ("/voice_turn", (handle_file(str(silence)), True), "silent"),
        ("/voice_turn", (handle_file(str(stereo)), True), "silent"),
    ]
    for api, args, message in cases:
        with pytest.raises(Exception, match=message):
            c.predict(*args, api_name=api)
    turns = c.predict(api_name="/history")["turns"]
    assert [t["user_text"] for t in turns] == ["Hello mentor, I have a question about my internship."]


def test_health(client):
    h = client.predict(api_name="/health")
    assert h["ok"] and h["profile"] == "embedded" and h["device"] == "cpu"
    assert [m["stage"] for m in h["models"]] == ["vad", "speech-to-text", "text emotion", "crisis check",
                                                 "speech emotion", "llm", "tts"]
    assert h["versions"]["faster-whisper"] != "not installed"


def test_crisis_turn_is_marked_and_shows_resources(app_url):
    c = Client(app_url, verbose=False)
    chat, audio, timeline, summary, timings, last, details, notice, feed = c.predict(
        "I don't want to wake up tomorrow.", True, api_name="/text_turn")
    assert details["crisis"] and "crisis support" in notice and "findahelpline.com" in notice
    assert "emergency number" in str(chat[-1]["content"]) and audio
    assert c.predict(api_name="/history")["turns"][0]["crisis"]
    # The rest of the session: an ordinary turn is answered by the LLM, and the resources stay.
    chat, audio, timeline, summary, timings, last, details, notice, feed = c.predict(
        "Okay. Maybe I could talk to my sister tonight.", True, api_name="/text_turn")
    assert not details["crisis"] and "findahelpline.com" in notice and "crisis support" in notice
    turns = c.predict(api_name="/history")["turns"]
    assert len(turns) == 2 and turns[1]["model"] != turns[0]["model"]  # the second reply came from the LLM


def test_indirect_crisis_message_is_caught_by_the_semantic_layer(app_url):
    """Regression: passive, indirect phrasings with no "kill myself" or "suicide" were missed."""
    c = Client(app_url, verbose=False)
    *_, details, notice, feed = c.predict("I've given my cat to my neighbour and written letters to my sisters, "
                                          "just in case.", True, api_name="/text_turn")
    assert "semantic" in details["crisis"] and "findahelpline.com" in notice
