"""WAV files in Python and in the graph, and the speech problems' WavEncoder."""

import io
import wave

import numpy as np
import pytest
import tensorflow as tf

from t2t_multimodel import speech_problems
from t2t_multimodel.data import wav
from t2t_multimodel.errors import DataError


def test_read_wav_streamed_header_stereo_and_errors():
    waveform = np.arange(-50, 50, dtype=np.int16) * 100
    data = bytearray(wav.wav_bytes(waveform, 22050))
    data[40:44] = (0x7FFFF000).to_bytes(4, "little")  # A pipe's placeholder length.
    read, rate = wav.read_wav(bytes(data))
    assert rate == 22050 and np.array_equal(read, waveform)

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.array([[100, 300], [-200, -400]], "<i2").tobytes())
    assert wav.read_wav(buffer.getvalue())[0].tolist() == [200, -300]

    with pytest.raises(DataError, match="not a WAV file"):
        wav.read_wav(b"ID3 an mp3 file", source="song.mp3")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(b"\x80\x90")
    with pytest.raises(DataError, match="not 16-bit PCM"):
        wav.read_wav(buffer.getvalue())


def test_in_graph_resampling_matches_scipy():
    rate = 8000
    waveform = (8000 * np.sin(2 * np.pi * 440 * np.arange(rate // 2) / rate)).astype(np.int16)
    graph = wav.decode_wav_tf(
        tf.constant(wav.wav_bytes(waveform, rate))).numpy()
    scipy = wav.resample(waveform, rate, 16000) / 32768.0
    assert graph.shape == scipy.shape == (8000,)
    # Both band-limited; they differ only near the edges.
    assert np.abs(graph[400:-400] - scipy[400:-400]).max() < 0.01


def test_wav_encoder_round_trips_and_resamples():
    encoder = wav.WavEncoder(sample_rate=16000)
    waveform = (1000 * np.sin(np.arange(320) / 5.0)).astype(np.int16)
    assert encoder.encode(encoder.decode(waveform)) == waveform.tolist()
    at_8k = wav.wav_bytes(waveform[::2], 8000)
    assert len(encoder.encode(at_8k)) == 320  # resampled to the encoder's rate


def test_speech_problems_re_exports_the_wav_helpers():
    # T2T-style code reaches them through the problem module.
    assert speech_problems.read_wav is wav.read_wav
    assert speech_problems.WavEncoder is wav.WavEncoder
    assert speech_problems.SAMPLE_RATE == wav.SAMPLE_RATE == 16000
