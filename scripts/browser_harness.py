"""Drive the app in Debian's Chromium through Playwright with a fake microphone, and read
the page's own timings (``window.cmPlayer.log``). Used by tests/test_browser.py and
scripts/bench_browser.py.

The fake microphone plays a WAV file once (``%noloop``) from the moment the page opens
the microphone; the harness notes that moment in the page (``window.cmCapture``), so the
end of each utterance in page time is that moment plus its offset in the WAV.
"""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# Notes when getUserMedia hands over a stream (the fake file starts playing then), and
# when the whole reply's audio reaches the "last reply" player (the pre-streaming path:
# that player used to autoplay it).
CAPTURE_JS = """
window.cmCapture = [];
window.cmFullAudio = [];
new MutationObserver(() => {
  const a = document.querySelector('#reply-audio [data-testid="download-link"]');
  const src = a && (a.getAttribute('href') || a.querySelector('[href]')?.getAttribute('href'));
  if (src && !window.cmFullAudio.some((e) => e.src === src)) window.cmFullAudio.push({src, at: performance.now()});
}).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['href']});
const cmOrigGUM = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (c) => {
  const s = await cmOrigGUM(c); window.cmCapture.push(performance.now()); return s;
};
"""


def launch(playwright, wav_path, extra_args=()):
    """Chromium with ``wav_path`` as its microphone (played once)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav_path}%noloop", "--no-sandbox", "--disable-gpu",
        "--autoplay-policy=no-user-gesture-required", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", *extra_args])


def open_page(browser, url, timeout_ms=60_000):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.add_init_script(CAPTURE_JS)
    page.goto(url)
    page.wait_for_selector("#mic button.record-button", timeout=timeout_ms)
    page.wait_for_function("!!window.cmPlayer", timeout=timeout_ms)
    return page


def start_hands_free(page, timeout_ms=20_000) -> float:
    """Tick the hands-free box (the page starts its microphone); returns the page time
    (ms) at which the microphone started."""
    page.click("#hands-free input")
    page.wait_for_function("window.cmCapture.length > 0", timeout=timeout_ms)
    return page.evaluate("window.cmCapture[window.cmCapture.length - 1]")


def player_log(page) -> list[dict]:
    """One entry per reply piece the page received: turn, seq, arrived, starts (ms)."""
    return page.evaluate("window.cmPlayer.log")


def first_pieces(page) -> dict[int, dict]:
    """The first piece of each reply, by the player's reply id."""
    out: dict[int, dict] = {}
    for e in player_log(page):
        out.setdefault(e["turn"], e)
    return out


def chat_text(page) -> str:
    return page.inner_text("#chat")
