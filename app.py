"""ClarityMentor web app: wires the page to the handlers in ``claritymentor.ui``.

    python app.py [--profile embedded|hub|space] [--host 127.0.0.1] [--port 7860] [--share]

All models load once, before the server starts (``get_pipeline`` caches them); each
browser gets its own ``gr.State`` session.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from claritymentor import ui  # noqa: E402
from claritymentor.config import PROFILES, load_config  # noqa: E402
from claritymentor.constants import MAX_TEXT_CHARS  # noqa: E402
from claritymentor.factory import LoadedPipeline, get_pipeline  # noqa: E402
from claritymentor.conversation import Conversation  # noqa: E402
from claritymentor.page import PAGE_OUTPUTS  # noqa: E402
from claritymentor.session import (AROUSAL_SERIES, SERIES_PERCEIVED, SERIES_WORDS, SessionState,  # noqa: E402
                                   timeline_summary)
from claritymentor.turns import TurnRunner  # noqa: E402
from claritymentor.turn_detection import TurnDetector  # noqa: E402

logger = logging.getLogger("claritymentor.app")

SERIES_COLORS = {SERIES_PERCEIVED: "#111111", SERIES_WORDS: "#1f77b4", AROUSAL_SERIES: "#f28e2b"}


def build_demo(loaded: LoadedPipeline) -> gr.Blocks:
    cfg = loaded.pipeline.cfg
    has_adapter = bool(loaded.pipeline.llm.adapter)
    runner = TurnRunner(loaded.pipeline)
    resources = cfg.safety.resources
    new_detector = functools.partial(TurnDetector.load, cfg.turn)
    with gr.Blocks(title="ClarityMentor") as demo:
        # One Conversation per browser (history, live state, prefill); closed when Gradio drops the session.
        conv = gr.State(lambda: Conversation(loaded.pipeline, new_detector), delete_callback=Conversation.close)
        gr.Markdown("# ClarityMentor\nTalk to your mentor: record a question (it answers when you stop "
                    "recording), type one, or tick *Hands-free* and just talk. The mentor listens to *how* you "
                    "sound as well as what you say.")
        with gr.Row():
            with gr.Column(scale=3, min_width=520):
                chat = gr.Chatbot(label="Conversation", height=420, elem_id="chat")
                with gr.Row():
                    hands_free = gr.Checkbox(value=False, label="Hands-free (just talk; pause to hand over, "
                                             "speak over the mentor to interrupt)", elem_id="hands-free", scale=3)
                    live_status = gr.Markdown(elem_id="live-status")
                with gr.Row():
                    mic = gr.Audio(sources=["microphone", "upload"], type="filepath", format=None,
                                   label="Push to talk (stop recording to send)", elem_id="mic")
                    live_mic = gr.Audio(sources=["microphone"], type="numpy", streaming=True, visible=False,
                                        label="Hands-free microphone (press Record once)", elem_id="live-mic",
                                        waveform_options=gr.WaveformOptions(show_recording_waveform=False))
                    reply_audio = gr.Audio(label="Mentor's last reply (it plays as it is written; replay here)",
                                           autoplay=False, interactive=False, elem_id="reply-audio")
                # The reply's pieces travel to the page's player (claritymentor/player.js) through
                # the first hidden box; hands-free utterances signal the turn handler through the
                # second, and a barge-in that shortened the last reply signals a chat refresh (third).
                audio_feed = gr.Textbox(visible="hidden", elem_id="audio-feed")
                heard = gr.Textbox(visible="hidden", elem_id="heard-signal")
                history_changed = gr.Textbox(visible="hidden", elem_id="history-signal")
                with gr.Row():
                    text = gr.Textbox(placeholder="…or type to the mentor and press Enter", show_label=False,
                                      scale=4, elem_id="text-in", max_length=MAX_TEXT_CHARS)
                    send = gr.Button("Send", variant="primary", scale=1)
                with gr.Row():
                    use_adapter = gr.Checkbox(value=has_adapter, interactive=has_adapter,
                                              label="ClarityMentor adapter (off: base model)")
                    new = gr.Button("New conversation", variant="secondary")
                notice = gr.Markdown(elem_id="notice")
            with gr.Column(scale=2, min_width=480):
                timeline = gr.LinePlot(x="turn", y="score", color="series", color_map=SERIES_COLORS,
                                       tooltip=["turn", "series", "label", "score"],
                                       y_lim=[0, 1], title="Emotion timeline", x_title="turn",
                                       y_title="intensity (0 calm – 1 strong)", height=260, elem_id="timeline")
                summary = gr.Markdown(timeline_summary(SessionState()), elem_id="timeline-summary")
                last_timing = gr.Markdown(elem_id="last-timing")
                timings = gr.Dataframe(label="Stage timings per turn (ms)", interactive=False,
                                       elem_id="timings")
                with gr.Accordion("Turn details (both emotion channels)", open=False):
                    turn_details = gr.JSON(label="Last turn")
                with gr.Accordion("Models and health", open=False):
                    gr.Markdown(ui.status_markdown(loaded), elem_id="status")
                    health_btn = gr.Button("Check health", size="sm")
                    health_json = gr.JSON(label="Health")
                with gr.Accordion("Session history (JSON)", open=False):
                    history_btn = gr.Button("Show history", size="sm")
                    history_json = gr.JSON(label="History")

        page = {"chat": chat, "reply_audio": reply_audio, "timeline": timeline, "timeline_summary": summary,
                "timings_table": timings, "last_timings": last_timing, "details": turn_details, "notice": notice,
                "feed": audio_feed}
        outputs = [page[name] for name in PAGE_OUTPUTS]
        voice_fn = functools.partial(ui.voice_turn, runner)
        text_fn = functools.partial(ui.text_turn, runner)
        audio_feed.change(None, audio_feed, None, js="(v) => { window.cmPlayer && window.cmPlayer.push(v); }")
        mic.start_recording(functools.partial(ui.barge_in, resources), conv, [audio_feed, chat],
                            api_visibility="private",
                            js="(c) => { window.cmPlayer && window.cmPlayer.stop(); return c; }")
        mic.stop_recording(voice_fn, [conv, mic, use_adapter], outputs, api_name="voice_turn",
                           concurrency_id="turn")
        mic.upload(voice_fn, [conv, mic, use_adapter], outputs, api_visibility="private", concurrency_id="turn")
        text.submit(text_fn, [conv, text, use_adapter], outputs, api_name="text_turn",
                    concurrency_id="turn").success(lambda: "", None, text, api_visibility="private")
        send.click(text_fn, [conv, text, use_adapter], outputs, api_visibility="private",
                   concurrency_id="turn").success(lambda: "", None, text, api_visibility="private")
        new.click(ui.new_conversation, conv, outputs, api_name="new_conversation")
        hands_free.change(ui.set_hands_free, [conv, hands_free], [mic, live_mic, live_status],
                          api_visibility="private").then(
            None, hands_free, None,
            js="(on) => { if (on) setTimeout(() => document.querySelector('#live-mic button.record-button')?.click(), 500); }")
        live_mic.stream(ui.listen, [conv, live_mic], [live_status, heard, audio_feed, history_changed],
                        stream_every=0.25, time_limit=3600, concurrency_limit=None, concurrency_id="listen",
                        api_name="listen")
        history_changed.change(functools.partial(ui.show_chat, resources), conv, chat, api_visibility="private",
                               show_progress="hidden")
        # no progress overlay: an answer prepared early may be dropped; the status line says what happens
        heard.change(functools.partial(ui.hands_free_turn, runner), [conv, heard, use_adapter], outputs,
                     concurrency_id="turn", api_visibility="private", show_progress="hidden")
        history_btn.click(ui.session_history, conv, history_json, api_name="history")
        health_btn.click(functools.partial(ui.health, loaded), None, health_json, api_name="health")
        logger.info("UI built for profile %s", cfg.profile)
    return demo


def serving(args: argparse.Namespace, env=os.environ) -> tuple[str, int, bool]:
    """(host, port, share): the command line first, then CLARITYMENTOR_HOST / _PORT / _SHARE,
    then GRADIO_SERVER_NAME / _PORT (what Hugging Face Spaces and Docker set), then local."""
    host = args.host or env.get("CLARITYMENTOR_HOST") or env.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port = args.port or int(env.get("CLARITYMENTOR_PORT") or env.get("GRADIO_SERVER_PORT") or 7860)
    return host, port, bool(args.share or env.get("CLARITYMENTOR_SHARE") == "1")


def main() -> None:
    parser = argparse.ArgumentParser(description="ClarityMentor web app")
    parser.add_argument("--profile", choices=PROFILES, default=None,
                        help="model profile (default: $CLARITYMENTOR_PROFILE, space on a Hugging Face Space, "
                             "else embedded)")
    parser.add_argument("--host", help="address to listen on (default: $CLARITYMENTOR_HOST, $GRADIO_SERVER_NAME, "
                                       "127.0.0.1)")
    parser.add_argument("--port", type=int, help="default: $CLARITYMENTOR_PORT, $GRADIO_SERVER_PORT, 7860")
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public link (also CLARITYMENTOR_SHARE=1)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host, port, share = serving(args)
    cfg = load_config(args.profile)
    demo = build_demo(get_pipeline(cfg))
    demo.queue(default_concurrency_limit=1, max_size=32)
    demo.launch(server_name=host, server_port=port, share=share, max_file_size=f"{int(cfg.audio.max_upload_mb)}mb",
                show_error=True, js=ui.player_js(), prevent_thread_lock=True)
    if share and not demo.share_url:
        logger.warning("no public share link could be made (no network, or on a Space); serving locally at %s",
                       demo.local_url)
    demo.block_thread()


if __name__ == "__main__":
    main()
