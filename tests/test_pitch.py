"""pitch.py against librosa (the reference it reproduces) and against known tones."""

import librosa
import numpy as np
import pytest

from claritymentor import pitch

SR = 16000


def _voice(seconds: float, hz: float, rng) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    f = hz * (1 + 0.08 * np.sin(2 * np.pi * 1.5 * t))
    y = 0.3 * np.sin(2 * np.pi * np.cumsum(f) / SR) + 0.02 * rng.standard_normal(len(t))
    y[: len(y) // 4] = 0.001 * rng.standard_normal(len(y) // 4)  # a quiet lead-in
    return y.astype(np.float32)


@pytest.mark.parametrize("seconds,hz", [(0.3, 95.0), (1.1, 140.0), (2.7, 260.0)])
def test_yin_and_rms_give_librosas_numbers(seconds, hz):
    y = _voice(seconds, hz, np.random.default_rng(int(hz)))
    ours = pitch.yin(y, 60, 400, SR, 1024, 160)
    ref = librosa.yin(y, fmin=60, fmax=400, sr=SR, frame_length=1024, hop_length=160)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-4)
    np.testing.assert_allclose(pitch.frame_rms(y, 512, 160),
                               librosa.feature.rms(y=y, frame_length=512, hop_length=160)[0], rtol=1e-5)


@pytest.mark.parametrize("hz", [110.0, 220.0, 330.0])
def test_yin_finds_a_steady_tone(hz):
    t = np.arange(SR) / SR
    f0 = pitch.yin(np.sin(2 * np.pi * hz * t).astype(np.float32), 60, 400, SR, 1024, 160)
    assert np.median(f0[10:-10]) == pytest.approx(hz, rel=0.01)


@pytest.mark.parametrize("n", [1, 2, 97, 1023, 2047, 4095, 6001])
def test_fft_length_is_scipys(n):
    import scipy.fft

    assert pitch.next_fast_len(n) == scipy.fft.next_fast_len(n, real=True)
