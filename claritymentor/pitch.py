"""Frame RMS and YIN pitch in plain numpy, step for step as librosa 0.11 computes them
(``librosa.feature.rms`` and ``librosa.yin``, centred, constant padding); the tests hold
the two to the same numbers. Importing librosa's pitch code loads numba and its cached
kernels, about 2 s of every start; prosody only needs these two measures.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _frames(y: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """(frame_length, n_frames) centred frames, zero padded at both ends."""
    padded = np.pad(y, frame_length // 2, mode="constant")
    return sliding_window_view(padded, frame_length)[::hop_length].T


def frame_rms(y: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """Root mean square of each centred frame."""
    return np.sqrt(np.mean(np.abs(_frames(y, frame_length, hop_length)) ** 2, axis=0))


def next_fast_len(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n (what scipy.fft.next_fast_len gives for real input)."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def _cmnd(frames: np.ndarray, min_period: int, max_period: int) -> np.ndarray:
    """YIN's cumulative mean normalised difference, lags min_period..max_period."""
    n_pad = next_fast_len(2 * frames.shape[0] - 1)
    spectrum = np.fft.rfft(frames, n=n_pad, axis=0)
    acf = np.fft.irfft(spectrum.real ** 2 + spectrum.imag ** 2, n=n_pad, axis=0)[: max_period + 1]
    energy = np.cumsum(np.square(frames), axis=0)
    diff = np.zeros((max_period + 1, frames.shape[1]), dtype=frames.dtype)
    diff[1:] = 2 * (acf[0:1] - acf[1:]) - energy[:max_period]
    lags = np.arange(1, max_period + 1).reshape(-1, 1)
    mean = np.cumsum(diff[1:], axis=0) / lags
    denominator = mean[min_period - 1: max_period]
    return diff[min_period: max_period + 1] / (denominator + np.finfo(denominator.dtype).tiny)


def _parabolic_shifts(x: np.ndarray) -> np.ndarray:
    """Offset of the parabola through each bin and its two neighbours (0 at the edges or
    when it would move more than one bin)."""
    shifts = np.zeros_like(x)
    a = x[2:] + x[:-2] - 2 * x[1:-1]
    b = (x[2:] - x[:-2]) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        shifts[1:-1] = np.where(np.abs(b) >= np.abs(a), 0, -b / a)
    return shifts


def yin(y: np.ndarray, fmin: float, fmax: float, sr: int, frame_length: int, hop_length: int,
        trough_threshold: float = 0.1) -> np.ndarray:
    """Fundamental frequency (Hz) of each centred frame by YIN (de Cheveigné & Kawahara 2002)."""
    frames = _frames(y, frame_length, hop_length)
    min_period = int(np.floor(sr / fmax))
    max_period = min(int(np.ceil(sr / fmin)), frame_length - 1)
    d = _cmnd(frames, min_period, max_period)
    shifts = _parabolic_shifts(d)
    trough = np.zeros(d.shape, dtype=bool)
    trough[1:-1] = (d[1:-1] < d[:-2]) & (d[1:-1] <= d[2:])
    trough[-1] = d[-1] < d[-2]
    trough[0] = d[0] < d[1]
    below = trough & (d < trough_threshold)
    period = np.argmax(below, axis=0)
    none_below = ~below.any(axis=0)
    period[none_below] = np.argmin(d, axis=0)[none_below]
    refined = min_period + period + shifts[period, np.arange(d.shape[1])]
    return sr / refined
