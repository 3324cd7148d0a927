"""Audio at the boundary: whatever arrives (a file, int16 or float samples, stereo, any
rate, NaNs) leaves as mono float32 at 16 kHz. Uploads and recordings become a checked
``AudioClip`` or a ``UserInputError`` that says what was wrong (``prepare_audio``); the
hands-free microphone's chunks go through the same conversion and the same resampler,
streaming (``LiveAudio``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from claritymentor.config import AudioConfig
from claritymentor.constants import SAMPLE_RATE
from claritymentor.errors import UserInputError
from claritymentor.types import AudioClip

logger = logging.getLogger(__name__)

MAX_BAD_SAMPLE_RATIO = 0.01  # up to 1% NaN/inf samples are zeroed with a warning; more is rejected


def load_audio_file(path: str | os.PathLike, cfg: AudioConfig) -> tuple[int, np.ndarray]:
    """Read an audio file into (sample rate, samples), refusing huge or non-audio files."""
    if path is None or str(path) == "":
        raise UserInputError("No audio was received. Record with the microphone or upload a file.")
    p = Path(path)
    if not p.is_file():
        raise UserInputError("The audio file could not be found on the server. Please record or upload it again.")
    size_mb = p.stat().st_size / 1e6
    if size_mb > cfg.max_upload_mb:
        raise UserInputError(
            f"The file is {size_mb:.1f} MB; the limit is {cfg.max_upload_mb:.0f} MB. "
            f"Please send a recording under {cfg.max_duration_s:.0f} s."
        )
    if p.stat().st_size == 0:
        raise UserInputError("The recording is empty. Hold the record button and speak, then stop.")
    try:
        info = sf.info(str(p))
        if info.frames / max(info.samplerate, 1) > cfg.max_duration_s * 3:
            # Refuse before decoding minutes of audio into memory.
            _raise_too_long(info.frames / info.samplerate, cfg)
        data, rate = sf.read(str(p), dtype="float32", always_2d=False)
    except sf.LibsndfileError:
        data, rate = _decode_with_librosa(p)
    return int(rate), data


def _decode_with_librosa(p: Path) -> tuple[np.ndarray, int]:
    """Formats libsndfile cannot read (e.g. some webm/mp4 from browsers) go through librosa."""
    import librosa  # slow import; only needed on this path

    try:
        data, rate = librosa.load(str(p), sr=None, mono=False)
    except Exception as e:  # librosa raises many types for undecodable input
        logger.info("could not decode %s as audio: %s", p.name, e)
        raise UserInputError(
            f"'{p.name}' could not be read as audio. Please upload a WAV, FLAC, OGG or MP3 recording."
        ) from e
    if data.ndim == 2:
        data = data.T  # librosa gives (channels, samples)
    return data, int(rate)


def _raise_too_long(duration_s: float, cfg: AudioConfig) -> None:
    raise UserInputError(
        f"The recording is {duration_s:.0f} s long; the maximum is {cfg.max_duration_s:.0f} s. "
        "Please ask in a shorter recording."
    )


def mono_float32(data: np.ndarray) -> np.ndarray:
    """Any integer or float samples, mono or multi-channel, as one mono float32 channel."""
    return np.ascontiguousarray(_to_mono(_to_float(np.asarray(data))), dtype=np.float32)


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """A whole clip at ``rate_out`` (soxr, high quality: librosa's default resampler)."""
    import soxr

    return soxr.resample(samples, rate_in, rate_out, quality="HQ").astype(np.float32, copy=False)


class LiveAudio:
    """Streamed microphone chunks (any rate, int or float, mono or not) as mono float32 at
    ``rate_out``, resampled by soxr as one continuous stream. A chunk's NaN/inf samples
    become silence: a live stream has nobody to show an error to four times a second."""

    def __init__(self, rate_out: int = SAMPLE_RATE):
        self._rate_out = rate_out
        self._rate_in: int | None = None
        self._stream = None

    def convert(self, sample_rate: int, samples: np.ndarray) -> np.ndarray:
        data = np.nan_to_num(mono_float32(samples).reshape(-1), nan=0.0, posinf=0.0, neginf=0.0)
        if sample_rate != self._rate_in:
            import soxr

            self._rate_in = sample_rate
            self._stream = (soxr.ResampleStream(sample_rate, self._rate_out, 1, dtype="float32", quality="HQ")
                            if sample_rate != self._rate_out else None)
        return self._stream.resample_chunk(data) if self._stream is not None else data

    def reset(self) -> None:
        self._rate_in, self._stream = None, None


def _to_float(data: np.ndarray) -> np.ndarray:
    if np.issubdtype(data.dtype, np.integer):
        info = np.iinfo(data.dtype)
        if info.min == 0:  # unsigned PCM (8-bit WAV) is centred on the middle value
            return (data.astype(np.float32) - (info.max + 1) / 2) / ((info.max + 1) / 2)
        return data.astype(np.float32) / float(-info.min)
    if np.issubdtype(data.dtype, np.floating):
        return data.astype(np.float32, copy=False)
    raise UserInputError(f"Unsupported sample type {data.dtype}; send 16-bit PCM or float audio.")


def _to_mono(data: np.ndarray) -> np.ndarray:
    if data.ndim == 1:
        return data
    if data.ndim != 2:
        raise UserInputError(f"Audio must be mono or multi-channel samples, got an array of shape {data.shape}.")
    # Channels are the short axis: (samples, channels) from soundfile/Gradio.
    channel_axis = 1 if data.shape[1] <= data.shape[0] else 0
    return data.mean(axis=channel_axis)


def prepare_audio(sample_rate: int, data: np.ndarray | None, cfg: AudioConfig) -> AudioClip:
    """Validate and convert raw samples to a mono float32 clip at ``cfg.sample_rate_hz``.

    Raises UserInputError for empty, too short, too long, silent or invalid audio.
    """
    if data is None:
        raise UserInputError("No audio was received. Record with the microphone or upload a file.")
    data = np.asarray(data)
    if data.size == 0:
        raise UserInputError("The recording is empty. Hold the record button and speak, then stop.")
    if not sample_rate or sample_rate < 1000 or sample_rate > 384000:
        raise UserInputError(f"Unsupported sample rate {sample_rate} Hz; use 8 kHz to 384 kHz audio.")
    samples = mono_float32(data)
    duration_s = len(samples) / sample_rate
    if duration_s > cfg.max_duration_s:
        _raise_too_long(duration_s, cfg)
    if duration_s < cfg.min_speech_s:
        raise UserInputError(
            f"The recording is only {duration_s:.2f} s long. Please speak for at least {cfg.min_speech_s:.1f} s."
        )
    warnings: list[str] = []
    bad = ~np.isfinite(samples)
    if bad.any():
        ratio = float(bad.mean())
        if ratio > MAX_BAD_SAMPLE_RATIO:
            raise UserInputError(
                f"The audio is corrupted: {ratio:.0%} of its samples are not numbers (NaN/inf). Please record again."
            )
        samples = np.where(bad, 0.0, samples).astype(np.float32)
        warnings.append(f"{int(bad.sum())} invalid (NaN/inf) samples were replaced by silence.")
    peak = float(np.max(np.abs(samples)))
    if peak < cfg.silence_peak:
        raise UserInputError("The recording is silent. Check that the right microphone is selected and speak up.")
    if peak > 1.0:
        samples = samples / peak  # float input beyond full scale; peak is non-zero here
    if sample_rate != cfg.sample_rate_hz:
        samples = resample(samples, sample_rate, cfg.sample_rate_hz)
    return AudioClip(samples=np.ascontiguousarray(samples, dtype=np.float32),
                     sample_rate=cfg.sample_rate_hz, warnings=tuple(warnings))


def clip_from_file(path: str | os.PathLike, cfg: AudioConfig) -> AudioClip:
    """Load and validate an audio file in one step."""
    rate, data = load_audio_file(path, cfg)
    return prepare_audio(rate, data, cfg)
