"""Drive the app in Debian's Chromium through Playwright with a fake microphone, and read
the page's own timings (``window.cmPlayer.log``). Used by tests/test_browser.py and
scripts/bench_browser.py.

The fake microphone plays a WAV file once (``%noloop``). The harness notes in the page
when the microphone was handed over (``window.cmCapture``) and the level of what the
page's microphone stream carries every ~10 ms (``window.cmLevels``): ``speech_segments``
finds in it where each utterance starts and ends, in page time, as the page captured it.
(The file starts playing a little before ``getUserMedia`` resolves, so "handed over plus
the offset in the WAV" put the end of speech ~0.2 s late.)
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
window.cmLevels = [];
const cmOrigGUM = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (c) => {
  const s = await cmOrigGUM(c);
  window.cmCapture.push(performance.now());
  try {
    const ctx = new AudioContext();
    const an = ctx.createAnalyser();
    an.fftSize = 512;
    ctx.createMediaStreamSource(s).connect(an);
    const buf = new Float32Array(an.fftSize);
    setInterval(() => {
      an.getFloatTimeDomainData(buf);
      let e = 0;
      for (const v of buf) e += v * v;
      window.cmLevels.push([performance.now(), Math.sqrt(e / buf.length)]);
    }, 10);
  } catch (err) { console.warn('level meter unavailable', err); }
  return s;
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


def speech_segments(page, threshold: float = 0.01, gap_ms: float = 500.0,
                    count: int | None = None) -> list[tuple[float, float]]:
    """(start, end) page times (ms) of the speech the page's microphone carried: levels
    above ``threshold``, pauses under ``gap_ms`` joined. The end is the last loud reading,
    so a late reading (a busy page) can only make a latency measured from it longer.
    ``count``: the number of utterances the microphone played; a busy page can leave a
    longer hole inside one, so the closest segments are joined until ``count`` remain."""
    return segments_from_levels(page.evaluate("window.cmLevels"), threshold, gap_ms, count)


def segments_from_levels(levels, threshold: float = 0.01, gap_ms: float = 500.0,
                         count: int | None = None) -> list[tuple[float, float]]:
    """``speech_segments`` on (time ms, level) readings."""
    segments: list[list[float]] = []
    for t, level in levels:
        if level < threshold:
            continue
        if segments and t - segments[-1][1] < gap_ms:
            segments[-1][1] = t
        else:
            segments.append([t, t])
    while count is not None and len(segments) > count:
        i = min(range(len(segments) - 1), key=lambda k: segments[k + 1][0] - segments[k][1])
        segments[i:i + 2] = [[segments[i][0], segments[i + 1][1]]]
    return [(a, b) for a, b in segments]


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
