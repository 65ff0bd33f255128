"""WAV files: 16-bit PCM bytes <-> int16 waveforms, in Python and in the graph.

Datagen writes every utterance as a 16 kHz mono 16-bit PCM WAV file
(`wav_bytes`, `read_wav`, `resample` with scipy); training and serving decode
them in the graph (`decode_wav_tf`, resampling by FFT with core TF ops, so a
SavedModel needs nothing else). `WavEncoder` is a speech problem's `inputs`
encoder. `speech_problems` re-exports all of them under T2T's module.
"""

import io
import math
import wave

import numpy as np
import tensorflow as tf

from t2t_multimodel.errors import DataError

SAMPLE_RATE = 16000
_BAD_WAV = ("serving inputs must be WAV file bytes (RIFF/WAVE, 16-bit PCM); "
            "received bytes that are not a WAV file")


# ---- WAV files in Python (datagen) ------------------------------------------
def wav_bytes(waveform, sample_rate=SAMPLE_RATE):
    """A mono 16-bit PCM WAV file holding int16 `waveform` `[N]`."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(np.asarray(waveform, "<i2").tobytes())
    return buffer.getvalue()


def read_wav(data, source="<bytes>"):
    """`(int16 mono waveform [N], sample_rate)` of 16-bit PCM WAV bytes.

    Channels are averaged. The data chunk is read to the end of the file, so
    streamed WAVs whose header holds a placeholder length (espeak-ng and
    sph2pipe writing to a pipe) are read whole.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise DataError(f"{source} is not a WAV file (no RIFF/WAVE header); convert it to "
                        f"16-bit PCM WAV. Received: source={source}")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if chunk == b"fmt ":
            fmt = data[pos + 8:pos + 24]
        elif chunk == b"data":
            if fmt is None or len(fmt) < 16:
                break
            tag, channels, rate = (int.from_bytes(fmt[0:2], "little"),
                                   int.from_bytes(fmt[2:4], "little"),
                                   int.from_bytes(fmt[4:8], "little"))
            bits = int.from_bytes(fmt[14:16], "little")
            if tag not in (1, 0xFFFE) or bits != 16 or channels < 1:
                raise DataError(f"{source} is not 16-bit PCM ({bits}-bit, format {tag}); "
                                f"convert it (e.g. sox in.wav -b 16 out.wav). "
                                f"Received: source={source}")
            body = data[pos + 8:pos + 8 + size] if size < len(data) else data[pos + 8:]
            body = body[:len(body) // (2 * channels) * 2 * channels]
            samples = np.frombuffer(body, "<i2").reshape(-1, channels)
            if channels > 1:
                samples = samples.astype(np.int32).mean(axis=1)
            return samples.reshape(-1).astype(np.int16), rate
        pos += 8 + size + (size & 1)
    raise DataError(f"{source} has no fmt and data chunks; it is not a complete WAV file. "
                    f"Received: source={source}")


def resample(waveform, rate_in, rate_out=SAMPLE_RATE):
    """int16 `waveform` at `rate_in` → int16 at `rate_out` (polyphase, scipy)."""
    if rate_in == rate_out:
        return np.asarray(waveform, np.int16)
    from scipy.signal import resample_poly

    g = math.gcd(int(rate_in), int(rate_out))
    out = resample_poly(np.asarray(waveform, np.float64), rate_out // g, rate_in // g)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


# ---- WAV files in the graph (training and serving) --------------------------
def resample_tf(waveform, rate_in, rate_out):
    """Band-limited resampling of float `[N]` by FFT, with core TF ops only.

    The spectrum is cut (or zero-padded) at the new Nyquist frequency, so
    downsampling does not alias.
    """
    n = tf.shape(waveform)[0]
    n_out = tf.cast(tf.math.round(tf.cast(n, tf.float64) * tf.cast(rate_out, tf.float64)
                                  / tf.cast(rate_in, tf.float64)), tf.int32)
    spectrum = tf.signal.rfft(waveform)
    keep = n_out // 2 + 1
    spectrum = spectrum[:keep]
    spectrum = tf.pad(spectrum, [[0, keep - tf.shape(spectrum)[0]]])
    out = tf.signal.irfft(spectrum, fft_length=[n_out])
    return out * tf.cast(n_out, tf.float32) / tf.cast(tf.maximum(n, 1), tf.float32)


def decode_wav_tf(contents, sample_rate=SAMPLE_RATE):
    """WAV bytes (scalar string) → float32 mono waveform `[N]` at `sample_rate`.

    Bytes without a RIFF/WAVE header fail with a clear `InvalidArgumentError`.
    """
    header = tf.strings.substr(tf.strings.join([contents, tf.constant(" " * 12)]), 0, 12)
    is_wav = tf.logical_and(tf.equal(tf.strings.substr(header, 0, 4), "RIFF"),
                            tf.equal(tf.strings.substr(header, 8, 4), "WAVE"))
    check = tf.debugging.Assert(is_wav, [tf.constant(_BAD_WAV)])
    with tf.control_dependencies([check]):
        audio, rate = tf.audio.decode_wav(contents)
    waveform = tf.reduce_mean(audio, axis=1)
    return tf.cond(tf.equal(rate, sample_rate), lambda: waveform,
                   lambda: resample_tf(waveform, rate, sample_rate))


class WavEncoder:
    """The encoder of a speech problem's `inputs`: WAV files ↔ int16 samples.

    It has no `encode_tf` (the shards hold WAV files; `preprocess_example`
    decodes them in the graph).

    Args:
        sample_rate: int. The problem's sample rate.

    Example:

    ```python
    encoder = WavEncoder()
    data = encoder.decode(np.zeros([160], np.int16))    # WAV bytes
    encoder.encode(data)                                  # 160 zeros
    ```
    """

    def __init__(self, sample_rate=SAMPLE_RATE):
        self.sample_rate = int(sample_rate)

    @property
    def num_reserved_ids(self):
        return 0

    @property
    def vocab_size(self):
        return None

    def encode(self, data):
        waveform, rate = read_wav(data)
        return resample(waveform, rate, self.sample_rate).tolist()

    def decode(self, ids, strip_extraneous=False):
        del strip_extraneous
        return wav_bytes(np.asarray(ids, np.int16), self.sample_rate)
