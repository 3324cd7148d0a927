"""A real browser: Debian's Chromium through Playwright, with a fake-microphone WAV.
Push to talk, then a typed turn; the page must show both turns, the reply audio and
the timeline. Screenshots go to artifacts/."""

import shutil

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import ARTIFACTS, espeak_wav

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SENTENCE = "I feel really anxious about my job interview tomorrow."


@pytest.fixture(scope="module")
def mic_wav(speech_dir):
    """The sentence, with 1.5 s of silence after it so the recording ends quietly."""
    path = espeak_wav(speech_dir / "mic.wav", SENTENCE, rate=150, pad_s=0.3)
    data, sr = sf.read(path, dtype="float32")
    sf.write(path, np.concatenate([data, np.zeros(int(1.5 * sr), np.float32)]), sr, subtype="PCM_16")
    return path, len(data) / sr + 1.5


@pytest.fixture(scope="module")
def page(app_url, mic_wav):
    from playwright.sync_api import sync_playwright

    if not shutil.which("chromium"):
        pytest.fail("Chromium is missing: run `make test` (scripts/setup.sh test installs it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={mic_wav[0]}%noloop", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"])
        pg = browser.new_page(viewport={"width": 1400, "height": 1100})
        pg.goto(app_url)
        pg.wait_for_selector("#mic button.record-button", timeout=60_000)
        yield pg
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
    page.wait_for_selector("#reply-audio audio[src], #reply-audio [data-testid='waveform-Mentor\\'s voice']",
                           state="attached", timeout=30_000)
    assert "LLM" in page.inner_text("#last-timing")
    page.screenshot(path=str(ARTIFACTS / "browser-voice-turn.png"), full_page=True)

    page.fill("#text-in textarea", "Thank you. How should I prepare tonight?")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#chat').innerText.includes('prepare tonight')", timeout=30_000)
    page.wait_for_function("document.querySelector('#timeline-summary').innerText.includes('2:')",
                           timeout=90_000)
    # The text box is cleared once the turn has gone through (a failed turn keeps the text).
    page.wait_for_function("document.querySelector('#text-in textarea').value === ''", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "browser-two-turns.png"), full_page=True)
