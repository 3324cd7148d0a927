"""Latency benchmark: time from the end of speech to the first audio of the reply.

In-process (default): fixed spoken questions, synthesised with espeak-ng at run time
(3-8 s each), go through the real embedded pipeline after a warm-up. Each is answered
twice: streamed (the app's way: pieces spoken while the LLM writes) and sequentially
(the original backend's way: full LLM reply, then full TTS). Prints per-stage medians
and P90s, time-to-first-audio, and the ratio to the sequential baseline.

Then the same questions as one conversation (each turn sees the ones before), twice:
without and with the background prefill of the next turn's persona + history
(``llm.prefill_next_turn``), waiting for that prefill between turns as a listener would.

With ``--previous-rev REV`` the run also answers every question, interleaved, with the
configuration at git revision REV (its LoRA adapter and text-emotion head, the phrase-only
crisis check, no reply check), and prints the ratio of the two times to first audio.

Through the app (--app URL): the same questions sent to a running app with
gradio_client (`/voice_turn`), adding the web layer: the client's round trip and the
server's own marks.

    .venv/bin/python scripts/bench_latency.py [--rounds 2] [--previous-rev 3646e0a]
    .venv/bin/python scripts/bench_latency.py --app http://127.0.0.1:7860
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from claritymentor.devtools.speech import UTTERANCES, espeak_wav, stats  # noqa: E402


def previous_pipeline(p, rev: str, tmp: Path):
    """The pipeline as configured at git revision ``rev``: its adapter and emotion head
    (extracted from git), the phrase-only crisis check and no reply check."""
    import dataclasses

    from claritymentor.factory import _prepare_llm
    from claritymentor.llm import TransformersLLM
    from claritymentor.safety import CrisisDetector
    from claritymentor.text_emotion import load_text_emotion

    root = Path(__file__).resolve().parent.parent
    adapter = tmp / "previous-adapter"
    adapter.mkdir()
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        blob = subprocess.run(["git", "show", f"{rev}:models/claritymentor-lora/{name}"], cwd=root, check=True,
                              capture_output=True).stdout
        (adapter / name).write_bytes(blob)
    head = tmp / "previous-head.npz"
    head.write_bytes(subprocess.run(["git", "show", f"{rev}:models/text_emotion_head.npz"], cwd=root, check=True,
                                    capture_output=True).stdout)
    cfg = dataclasses.replace(p.cfg, llm=dataclasses.replace(p.cfg.llm, reply_check=False))
    llm = TransformersLLM.load(cfg.llm, Path(cfg.cache_dir), adapter)
    _prepare_llm(llm, cfg)
    return dataclasses.replace(p, cfg=cfg, llm=llm, text_emotion=load_text_emotion(cfg.text_emotion, head, None),
                               safety=CrisisDetector())


def in_process(files: list[Path], rounds: int, previous_rev: str | None = None, tmp: Path | None = None) -> None:
    from claritymentor.audio import clip_from_file
    from claritymentor.config import load_config
    from claritymentor.factory import get_pipeline
    from claritymentor.prompts import build_messages
    from claritymentor.types import Heard

    cfg = load_config()
    p = get_pipeline(cfg).pipeline
    clips = [clip_from_file(f, cfg.audio) for f in files]
    p.voice_turn(clips[0], [])  # warm-up
    prev = previous_pipeline(p, previous_rev, tmp) if previous_rev else None
    prev_first_audio: list[float] = []
    if prev is not None:
        prev.voice_turn(clips[0], [])
    streamed: dict[str, list[float]] = {k: [] for k in ("stt_done", "emotion_done", "first_token", "first_audio",
                                                        "reply_done")}
    baseline: list[float] = []
    for _ in range(rounds):
        for clip in clips:
            r = p.voice_turn(clip, [])
            for k in streamed:
                streamed[k].append(r.marks[k])
            if prev is not None:
                prev_first_audio.append(prev.voice_turn(clip, []).marks["first_audio"])
            # Sequential baseline, the original backend's way: the whole reply, then all of TTS.
            t0 = time.perf_counter()
            heard = next(e for e in p.voice_turn_stream(clip, []) if isinstance(e, Heard))
            messages = build_messages(cfg.prompts, heard.emotion, [], heard.user_text, cfg.llm.history_turns)
            reply = p.llm.generate(messages)
            p.tts.synthesize(reply, cfg.prompts.style(heard.emotion.label))
            baseline.append((time.perf_counter() - t0) * 1000)
    durations = [c.duration_s for c in clips]
    print(f"\nin-process, embedded profile, {len(clips)} utterances of {min(durations):.1f}-{max(durations):.1f} s "
          f"x {rounds} rounds, after a warm-up (ms from end of speech)")
    labels = {"stt_done": "speech-to-text done", "emotion_done": "emotion done", "first_token": "first LLM token",
              "first_audio": "FIRST AUDIO READY", "reply_done": "reply done (streamed)"}
    for k, label in labels.items():
        print(f"  {label:28s} {stats(streamed[k])}")
    print(f"  {'sequential baseline: audio':28s} {stats(baseline)}   (full LLM reply, then full TTS)")
    ratio = statistics.median(streamed["first_audio"]) / statistics.median(baseline)
    print(f"  time-to-first-audio / sequential baseline (medians): {ratio:.2f}")
    if prev is not None:
        print(f"  {'previous config (' + previous_rev + ')':28s} {stats(prev_first_audio)}   (first audio ready)")
        print(f"  time-to-first-audio now / previous config (medians): "
              f"{statistics.median(streamed['first_audio']) / statistics.median(prev_first_audio):.2f}")

    print(f"\none conversation of {len(clips)} turns (history of up to {cfg.llm.history_turns} exchanges in "
          "each prompt), ms from end of speech")
    rows = {}
    for prefill in (False, True):  # without first: it stores no conversation caches the other could reuse
        marks = conversation(p, clips, prefill)
        name = "with prefill" if prefill else "without prefill"
        rows[name] = marks
        for k, label in (("first_token", "first LLM token"), ("first_audio", "FIRST AUDIO READY")):
            print(f"  {name + ': ' + label:36s} {stats([m[k] for m in marks])}")
    ratio = (statistics.median(m["first_audio"] for m in rows["with prefill"])
             / statistics.median(m["first_audio"] for m in rows["without prefill"]))
    print(f"  first audio with / without prefill (medians): {ratio:.2f}")
    print("  per turn, first token without -> with: " + ", ".join(
        f"{a['first_token']}->{b['first_token']}" for a, b in zip(rows["without prefill"], rows["with prefill"])))


def conversation(p, clips, prefill: bool) -> list[dict[str, int]]:
    """The clips as one conversation; marks of each turn."""
    import dataclasses

    cfg = p.cfg
    p = dataclasses.replace(p, cfg=dataclasses.replace(cfg, llm=dataclasses.replace(cfg.llm,
                                                                                    prefill_next_turn=prefill)))
    history: list[tuple[str, str]] = []
    marks = []
    for clip in clips:
        r = p.voice_turn(clip, history)
        marks.append(r.marks)
        history.append((r.user_text, r.reply_text))
        thread = p.prefill_conversation(history, use_adapter=True)  # what the Conversation does
        if thread is not None:
            thread.join()  # the person listens to the reply meanwhile (several seconds)
    return marks


def through_app(files: list[Path], url: str, rounds: int) -> None:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    client.predict(handle_file(str(files[0])), True, api_name="/voice_turn")  # warm-up
    trip, first_audio = [], []
    for _ in range(rounds):
        for f in files:
            client.predict(api_name="/new_conversation")
            t0 = time.perf_counter()
            out = client.predict(handle_file(str(f)), True, api_name="/voice_turn")
            trip.append((time.perf_counter() - t0) * 1000)
            first_audio.append(out[6]["marks_ms"]["first_audio"])
    print(f"\nthrough the app at {url}, {len(files)} utterances x {rounds} rounds")
    print(f"  {'server: first audio ready':28s} {stats(first_audio)}")
    print(f"  {'client: whole round trip':28s} {stats(trip)}   (upload, whole turn, download)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--app", help="URL of a running app to measure through gradio_client")
    ap.add_argument("--previous-rev", help="also answer with the configuration at this git revision and compare")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        files = [espeak_wav(Path(tmp) / f"q{i}.wav", t, speed=150, pad_s=0.3) for i, t in enumerate(UTTERANCES)]
        if args.app:
            through_app(files, args.app, args.rounds)
        else:
            in_process(files, args.rounds, args.previous_rev, Path(tmp))


if __name__ == "__main__":
    main()
