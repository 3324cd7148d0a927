import numpy as np
import pytest
import soundfile as sf

from claritymentor.audio import clip_from_file, load_audio_file, prepare_audio
from claritymentor.config import AudioConfig
from claritymentor.errors import UserInputError

CFG = AudioConfig()


def tone(seconds: float, rate: int = 16000, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_int16_is_scaled_to_unit_range():
    clip = prepare_audio(16000, (tone(1.0) * 32767).astype(np.int16), CFG)
    assert clip.samples.dtype == np.float32
    assert 0.29 < np.abs(clip.samples).max() <= 0.31


@pytest.mark.parametrize("layout", ["samples_channels", "channels_samples"])
def test_stereo_48k_becomes_mono_16k(layout):
    left = tone(2.0, 48000)
    stereo = np.stack([left, left], axis=1 if layout == "samples_channels" else 0)
    clip = prepare_audio(48000, stereo, CFG)
    assert clip.samples.ndim == 1
    assert clip.sample_rate == 16000
    assert abs(clip.duration_s - 2.0) < 0.01


def test_empty_recording():
    with pytest.raises(UserInputError, match="empty"):
        prepare_audio(16000, np.array([], dtype=np.float32), CFG)


def test_missing_audio():
    with pytest.raises(UserInputError, match="No audio"):
        prepare_audio(16000, None, CFG)


def test_click_under_the_minimum_is_rejected():
    with pytest.raises(UserInputError, match=r"only 0.20 s long"):
        prepare_audio(16000, tone(0.2), CFG)


def test_over_the_maximum_is_rejected():
    with pytest.raises(UserInputError, match=r"61 s long; the maximum is 60 s"):
        prepare_audio(8000, tone(61, 8000), CFG)


def test_silence_is_rejected():
    with pytest.raises(UserInputError, match="silent"):
        prepare_audio(16000, np.zeros(16000, np.float32), CFG)


def test_a_few_nans_are_repaired_with_a_warning():
    y = tone(1.0)
    y[100:110] = np.nan
    clip = prepare_audio(16000, y, CFG)
    assert np.isfinite(clip.samples).all()
    assert clip.warnings and "10 invalid" in clip.warnings[0]


def test_mostly_nan_is_rejected():
    y = tone(1.0)
    y[::2] = np.inf
    with pytest.raises(UserInputError, match="not numbers"):
        prepare_audio(16000, y, CFG)


def test_float_beyond_full_scale_is_normalised_by_its_peak():
    clip = prepare_audio(16000, tone(1.0) * 10, CFG)
    assert np.isclose(np.abs(clip.samples).max(), 1.0, atol=1e-3)


def test_non_audio_file_is_rejected_with_its_name(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("this is not audio at all\n" * 50)
    with pytest.raises(UserInputError, match="'notes.txt' could not be read as audio"):
        load_audio_file(f, CFG)


def test_huge_upload_is_refused_before_decoding(tmp_path):
    f = tmp_path / "big.wav"
    with f.open("wb") as fh:
        fh.truncate(int(CFG.max_upload_mb * 1e6) + 10)
    with pytest.raises(UserInputError, match="limit is 20 MB"):
        load_audio_file(f, CFG)


def test_empty_file(tmp_path):
    f = tmp_path / "empty.wav"
    f.touch()
    with pytest.raises(UserInputError, match="empty"):
        load_audio_file(f, CFG)


def test_wav_file_round_trip(tmp_path):
    f = tmp_path / "a.wav"
    sf.write(f, np.stack([tone(1.5, 44100)] * 2, axis=1), 44100, subtype="PCM_16")
    clip = clip_from_file(f, CFG)
    assert clip.sample_rate == 16000 and abs(clip.duration_s - 1.5) < 0.01
