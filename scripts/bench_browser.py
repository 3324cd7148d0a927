"""Browser latency benchmark: in the page, the time from the end of the person's speech
to the first reply audio arriving at the page's player.

Drives Debian's Chromium through Playwright with espeak-ng questions as the fake
microphone (the same questions as scripts/bench_latency.py), against the app it starts
(or --app URL):

- push to talk: one browser per question; Record, the question, Stop. Measured from
  the Stop click to (a) the first streamed piece arriving and (b) the whole reply's
  audio arriving, which is when the page could first play it before streaming (the
  "before" figure, measured in the same run).
- hands-free: one browser, all questions in one microphone stream with pauses between
  them. Measured from the end of each question, as the page's microphone stream carried
  it (its level, read every ~10 ms), to the first piece of its reply.

The browser shares the 2-core machine with the server, so the figures include its load.

    .venv/bin/python scripts/bench_browser.py [--questions 6] [--app URL]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import statistics
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from claritymentor.devtools.speech import UTTERANCES, espeak_speech, stats
from claritymentor.devtools.app_process import running_app
from claritymentor.devtools.browser import first_pieces, launch, open_page, speech_segments, start_hands_free

logger = logging.getLogger("bench_browser")
GAP_S = 9.0  # silence after each hands-free question: the reply is generated well within it


def push_to_talk(p, url: str, tmp: Path, texts: list[str], extra_args) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"streamed": [], "whole": []}
    for i, text in enumerate(texts):
        data, rate = espeak_speech(text, speed=150, pad_s=0.0, rate=None)
        wav = tmp / f"ptt{i}.wav"
        sf.write(wav, np.concatenate([np.zeros(int(0.3 * rate), np.float32), data,
                                      np.zeros(int(0.3 * rate), np.float32)]), rate, subtype="PCM_16")
        browser = launch(p, wav, extra_args)
        try:
            page = open_page(browser, url)
            page.click("#mic button.record-button")
            page.wait_for_function("window.cmCapture.length > 0", timeout=20_000)
            start = page.evaluate("window.cmCapture[0]")
            page.wait_for_function(f"performance.now() > {start + (len(data) / rate + 0.5) * 1000}", polling=50,
                                   timeout=30_000)
            stop = page.evaluate("performance.now()")
            page.click("#mic button.stop-button")
            page.wait_for_function("window.cmPlayer.log.length > 0 && window.cmFullAudio.length > 0",
                                   timeout=120_000)
            first = min(e["arrived"] for e in page.evaluate("window.cmPlayer.log"))
            whole = page.evaluate("window.cmFullAudio[0].at")
            out["streamed"].append(first - stop)
            out["whole"].append(whole - stop)
            print(f"  ptt {i}: first piece {first - stop:6.0f} ms, whole reply {whole - stop:6.0f} ms", flush=True)
        finally:
            browser.close()
    return out


def hands_free(p, url: str, tmp: Path, texts: list[str], extra_args) -> list[float]:
    parts, ends, t = [], [], 1.0
    rate = 22050
    parts.append(np.zeros(int(t * rate), np.float32))
    for i, text in enumerate(texts):
        data, rate = espeak_speech(text, speed=150, pad_s=0.0, rate=None)
        parts += [data, np.zeros(int(GAP_S * rate), np.float32)]
        t += len(data) / rate
        ends.append(t)
        t += GAP_S
    wav = tmp / "hands-free.wav"
    sf.write(wav, np.concatenate(parts), rate, subtype="PCM_16")
    browser = launch(p, wav, extra_args)
    try:
        page = open_page(browser, url)
        mic_start = start_hands_free(page)
        page.wait_for_function(f"performance.now() > {mic_start + (t + 1) * 1000}", polling=500,
                               timeout=int((t + 60) * 1000))
        firsts = sorted(first_pieces(page).values(), key=lambda e: e["arrived"])
        segments = speech_segments(page, count=len(ends))
        if len(segments) != len(ends):
            raise SystemExit(f"the page's microphone carried {len(segments)} utterances, not {len(ends)}")
        offsets = [b - (mic_start + end * 1000) for (_, b), end in zip(segments, ends)]
        print(f"  (speech ended {statistics.median(offsets):+.0f} ms from the microphone's hand-over "
              "plus the offset in the WAV)", flush=True)
        out = []
        for i, (_, end_ms) in enumerate(segments):
            nxt = segments[i + 1][0] if i + 1 < len(segments) else float("inf")
            got = [e for e in firsts if end_ms < e["arrived"] < nxt]
            if not got:
                print(f"  hands-free {i}: no reply audio before the next question", flush=True)
                continue
            out.append(got[0]["arrived"] - end_ms)
            print(f"  hands-free {i}: first piece {out[-1]:6.0f} ms after the end of speech "
                  f"({got[0].get('transit_ms')} ms of it from the server's send to the page's player)", flush=True)
        return out
    finally:
        browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=6)
    ap.add_argument("--app", help="URL of a running app (default: start one)")
    ap.add_argument("--port", type=int, default=7871)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from playwright.sync_api import sync_playwright

    texts = UTTERANCES[:args.questions]
    extra: list[str] = []
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = args.app or stack.enter_context(running_app(args.port, tmp / "app.log", ("--port", str(args.port))))
        p = stack.enter_context(sync_playwright())
        # one warm-up turn (first use of each model path in the server)
        push_to_talk(p, url, tmp, texts[:1], extra)
        print("push to talk:", flush=True)
        ptt = push_to_talk(p, url, tmp, texts, extra)
        print("hands-free:", flush=True)
        hf = hands_free(p, url, tmp, texts, extra)
    ratio = statistics.median(ptt["streamed"]) / statistics.median(ptt["whole"])
    print(f"\nIn the page, {len(texts)} questions (3-8 s), Chromium on the same "
          "2-core machine as the server:")
    print(f"  push to talk, Stop -> first streamed piece   {stats(ptt['streamed'])}")
    print(f"  push to talk, Stop -> whole reply (before)   {stats(ptt['whole'])}")
    print(f"  streamed / whole (medians)                   {ratio:.2f}")
    if hf:
        print(f"  hands-free, end of speech -> first piece     {stats(hf)}   ({len(hf)}/{len(texts)} answered)")
    if args.json:
        args.json.write_text(json.dumps({"ptt": ptt, "hands_free": hf}, indent=1))


if __name__ == "__main__":
    main()
