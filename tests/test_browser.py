"""A real browser: Debian's Chromium through Playwright, with a fake-microphone WAV.
Push to talk, then a typed turn; then hands-free with a barge-in. The page must show
the turns, play the reply as it streams, and mark the interrupted reply. Screenshots and
the in-page latencies go to artifacts/."""

import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from claritymentor.devtools.browser import first_pieces, launch, open_page, player_log, speech_segments, start_hands_free
from claritymentor.devtools.speech import espeak_wav
from tests.fakes import ARTIFACTS

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SENTENCE = "I feel really anxious about my job interview tomorrow."


@pytest.fixture(scope="module")
def mic_wav(speech_dir):
    """The sentence, with 1.5 s of silence after it so the recording ends quietly."""
    path = espeak_wav(speech_dir / "mic.wav", SENTENCE, speed=150, pad_s=0.3)
    data, sr = sf.read(path, dtype="float32")
    sf.write(path, np.concatenate([data, np.zeros(int(1.5 * sr), np.float32)]), sr, subtype="PCM_16")
    return path, len(data) / sr + 1.5


@pytest.fixture(scope="module")
def playwright():
    """One Playwright for the module (its sync API cannot be started twice at once)."""
    from playwright.sync_api import sync_playwright

    if not shutil.which("chromium"):
        pytest.fail("Chromium is missing: run `make test` (scripts/setup.sh test installs it)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def page(app_url, mic_wav, playwright):
    browser = launch(playwright, mic_wav[0])
    yield open_page(browser, app_url)
    browser.close()


def test_push_to_talk_then_typed_turn(page, mic_wav):
    ARTIFACTS.mkdir(exist_ok=True)
    page.click("#mic button.record-button")
    page.wait_for_timeout(int(mic_wav[1] * 1000))  # the fake microphone plays the WAV in real time
    page.click("#mic button.stop-button")
    page.wait_for_function("document.querySelector('#chat').innerText.includes('perceived')", timeout=90_000)
    page.wait_for_function("document.querySelectorAll('#chat .message-row, #chat .message').length >= 2",
                           timeout=90_000)
    chat = page.inner_text("#chat").lower()
    assert "anxious" in chat and "tomorrow" in chat
    page.wait_for_function("window.cmFullAudio.length > 0", timeout=30_000)
    assert "LLM" in page.inner_text("#last-timing")
    # The reply was streamed: its first piece reached the page's player (and was scheduled
    # to play at once) before the whole reply's audio arrived.
    log = player_log(page)
    assert log and log[0]["state"] == "running" and log[0]["starts"] - log[0]["arrived"] < 100
    assert log[0]["arrived"] < page.evaluate("window.cmFullAudio[0].at")
    page.screenshot(path=str(ARTIFACTS / "browser-voice-turn.png"), full_page=True)

    page.fill("#text-in textarea", "Thank you. How should I prepare tonight?")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#chat').innerText.includes('prepare tonight')", timeout=30_000)
    page.wait_for_function("document.querySelector('#timeline-summary').innerText.includes('2:')",
                           timeout=90_000)
    # The text box is cleared once the turn has gone through (a failed turn keeps the text).
    page.wait_for_function("document.querySelector('#text-in textarea').value === ''", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "browser-two-turns.png"), full_page=True)


HANDS_FREE_FIRST = "I feel really anxious about my job interview tomorrow, and I keep thinking I will fail."
HANDS_FREE_SECOND = "Can you give me one thing to do tonight?"
BARGE_IN_AFTER_S = 4.5  # the second question starts while the first reply is still playing


@pytest.fixture(scope="module")
def hands_free_wav(tmp_path_factory):
    """One microphone stream: a question, a pause shorter than the reply, a second question
    (a barge-in), then silence. Returns the path and the end times of both questions."""
    d = tmp_path_factory.mktemp("hands-free")
    first, sr = sf.read(espeak_wav(d / "a.wav", HANDS_FREE_FIRST, speed=150, pad_s=0.0), dtype="float32")
    second, _ = sf.read(espeak_wav(d / "b.wav", HANDS_FREE_SECOND, speed=150, pad_s=0.0), dtype="float32")
    z = lambda s: np.zeros(int(s * sr), np.float32)  # noqa: E731
    path = d / "hands-free.wav"
    sf.write(path, np.concatenate([z(1.0), first, z(BARGE_IN_AFTER_S), second, z(9.0)]), sr, subtype="PCM_16")
    end1 = 1.0 + len(first) / sr
    return path, end1, end1 + BARGE_IN_AFTER_S + len(second) / sr


def test_hands_free_turns_and_barge_in(app_url, hands_free_wav, playwright):
    ARTIFACTS.mkdir(exist_ok=True)
    path, end1, end2 = hands_free_wav
    browser = launch(playwright, path)
    try:
        page = open_page(browser, app_url)
        mic_start = start_hands_free(page)
        assert page.is_visible("#live-mic") and not page.is_visible("#mic")
        # both questions answered without pressing anything
        page.wait_for_function("document.querySelector('#chat').innerText.includes('tonight')", timeout=60_000)
        page.wait_for_function("window.cmPlayer.log.some((e) => e.turn >= 2)", timeout=60_000)
        page.wait_for_function("document.querySelector('#timeline-summary').innerText.includes('2:')",
                               timeout=60_000)
        chat = page.inner_text("#chat").lower()
        assert "interview" in chat and "tonight" in chat
        # the barge-in: the second question stopped the first reply in the page, and
        # the history keeps only what had been played, marked interrupted
        stops = page.evaluate("window.cmPlayer.stops")
        assert [s["turn"] for s in stops] == [1], stops
        assert mic_start + (end1 + BARGE_IN_AFTER_S) * 1000 < stops[0]["at"] < mic_start + end2 * 1000
        page.wait_for_function("document.querySelector('#chat').innerText.includes('interrupted')",
                               timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "browser-hands-free.png"), full_page=True)
        firsts = first_pieces(page)
        (_, heard1), (start2, heard2) = speech_segments(page, count=2)  # as the page's microphone carried them
        latency = {"reply_1_ms": firsts[1]["arrived"] - heard1, "reply_2_ms": firsts[2]["arrived"] - heard2,
                   "barge_in_stop_ms": stops[0]["at"] - start2}
        (ARTIFACTS / "browser-hands-free-latency.json").write_text(json.dumps(latency, indent=1))
        print("hands-free, in the page (ms from end of speech to first reply audio):", latency)
        assert 0 < latency["reply_1_ms"] < 15_000 and 0 < latency["reply_2_ms"] < 15_000
    finally:
        browser.close()
