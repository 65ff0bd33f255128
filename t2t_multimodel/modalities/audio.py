"""`AudioModality`: a waveform or log-mel frames in, a sequence of `hidden_size` vectors out."""

import keras
import tensorflow as tf
from keras import ops

from t2t_multimodel import registry

_NEG_INF = -1e9  # What max pooling sees at padded frames and beyond the edges.


@registry.register_modality("audio")
@keras.saving.register_keras_serializable(package="t2t_multimodel")
class AudioModality(keras.layers.Layer):
    """The modality of speech as model inputs (T2T's `audio_spectral` bottom).

    Shapes use `B` (batch), `N` (samples), `T` (frames), `F`
    (`num_mel_bins`), `D` (`hidden_size`) and `T'` (frames after compression).

    - `bottom(x)` → `[B, T', D]`, where `x` is either
      - a waveform `[B, N]` (rank 2): floats in `[-1, 1]`, or integers in the
        int16 range (an integer dtype is scaled by `1 / 32768`), each row
        0-padded at the end. It becomes log-mel features in the graph with
        `tf.signal`: frames of 25 ms every 10 ms at `sample_rate` (no padding
        at the end, so `T = 1 + max(N - frame, 0) // hop`), power spectrum,
        `F` mel bins from 20 Hz to `sample_rate / 2`, `log(mel + 1e-6)`;
      - or precomputed log-mel features `[B, T, F]` (rank 3).

      Then each utterance is normalised per mel bin to zero mean and unit
      variance over its real frames, and `compression_steps` residual blocks
      halve the time axis (frequency is kept): two `ReLU → SeparableConv2D
      3x3 → LN` steps and a 3x3 max pool with stride (2, 1), plus a 1x1 conv
      with stride (2, 1) → LN on the residual path (computed as every other
      frame, then a 1x1 conv: the same function), as T2T's spectral
      `xnet_resblock`. Block 0 sees a single channel, so its first step has
      no ReLU and a full 3x3 conv and its residual path no LN (a conv of one
      channel gives rank-one outputs, which an LN would reduce to their
      sign). Block `i` has `min(16 * 2**i, D)` channels. Finally a dense
      layer projects each frame's `F x channels` values to `D`. Padded output
      frames are zeros.
    - `bottom_mask(x)` → float32 `[B, T']`, 1 at real frames. The real length
      of a waveform is the index of its last nonzero sample + 1: trailing
      exact zeros count as padding. Its real frames are those that lie wholly
      inside it, `max(0, 1 + (length - frame) // hop)` (none when it is
      shorter than one frame). For features, the
      real length is the index of the last frame with a nonzero value + 1
      (trailing all-zero frames are padding). Each block maps a length `n` to
      `ceil(n / 2)`.
    - `targets_bottom`, `top` and `loss` raise `NotImplementedError`: audio is
      an inputs-only modality here.

    Padding invariance: appending zeros to a waveform (or zero frames to
    features), alone or in a batch with longer examples, leaves every real
    output frame unchanged up to float rounding, including the last one. The
    normalisation uses real frames only; padded frames are zeroed before each
    convolution and set to `-1e9` before each max pool, and the pooling
    windows are aligned at frame 0 whatever the padded length (output frame
    `j` pools frames `2j - 1 .. 2j + 1`).

    `targets_are_sequences = None` (a class attribute) says that this
    modality cannot be a target at all.

    Args:
        hidden_size: int. `D`, the output depth.
        sample_rate: int. Samples per second of waveform inputs (at least
            100). Defaults to `16000`.
        num_mel_bins: int. `F`, the number of mel bins; features inputs must
            have this depth. Defaults to `80`.
        compression_steps: int. The number of stride-2 blocks along time.
            Defaults to `2` (1 s at 16 kHz: 98 frames → 25).
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            including `name`, `dtype`, etc.

    Call arguments:
        inputs: a waveform `[B, N]` or log-mel features `[B, T, F]`; calling
            the layer is `bottom`.

    Example:

    ```python
    modality = t2t_multimodel.modalities.audio.AudioModality(hidden_size=8)
    waveform = keras.random.uniform((2, 16000), minval=-1.0, maxval=1.0)
    x = modality.bottom(waveform)                                # [2, 25, 8]
    mask = modality.bottom_mask(waveform)                        # [2, 25]
    ```

    References:
        - T2T `layers/modalities.py` (`audio_spectral_bottom`,
          `speech_recognition_bottom`).
        - [Kaiser et al., 2017](https://arxiv.org/abs/1706.05137) (MultiModel).
    """

    targets_are_sequences = None

    def __init__(self, hidden_size, sample_rate=16000, num_mel_bins=80, compression_steps=2,
                 **kwargs):
        super().__init__(**kwargs)
        for arg, value, minimum in (("hidden_size", hidden_size, 1),
                                    ("sample_rate", sample_rate, 100),
                                    ("num_mel_bins", num_mel_bins, 1),
                                    ("compression_steps", compression_steps, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise ValueError(
                    f"`{arg}` must be an integer >= {minimum}. Received: {arg}={value}")
        self.hidden_size = hidden_size
        self.sample_rate = sample_rate
        self.num_mel_bins = num_mel_bins
        self.compression_steps = compression_steps
        self._frame_length = int(round(0.025 * sample_rate))
        self._frame_step = int(round(0.010 * sample_rate))
        self._fft_length = 1 << (self._frame_length - 1).bit_length()

    @classmethod
    def from_hparams(cls, hparams, vocabulary_size=None, feature="inputs", **kwargs):
        """The audio modality for model `hparams`; `vocabulary_size` is ignored.

        Reads `hidden_size`, `audio_sample_rate` (16000), `audio_num_mel_bins`
        (80) and `audio_compression_steps` (2).
        """
        kwargs.setdefault("sample_rate", hparams.get("audio_sample_rate", 16000))
        kwargs.setdefault("num_mel_bins", hparams.get("audio_num_mel_bins", 80))
        kwargs.setdefault("compression_steps", hparams.get("audio_compression_steps", 2))
        return cls(hidden_size=hparams.hidden_size, **kwargs)

    def _norm(self, name, channels):
        norm = keras.layers.LayerNormalization(
            epsilon=1e-6, dtype=self.dtype_policy, name=name)
        norm.build((None, None, self.num_mel_bins, channels))
        return norm

    def build(self, inputs_shape):
        self._check_shape(inputs_shape)
        channels = 1
        self._blocks = []
        for i in range(self.compression_steps):
            width = min(16 * 2 ** i, self.hidden_size)
            steps = []
            step_channels = channels
            for j in range(2):
                if i == j == 0:  # A separable conv of one channel would be rank one.
                    conv = keras.layers.Conv2D(width, 3, padding="same",
                                               dtype=self.dtype_policy, name="block_0_conv_0")
                else:
                    conv = keras.layers.SeparableConv2D(
                        width, 3, padding="same", dtype=self.dtype_policy,
                        name=f"block_{i}_separable_conv_{j}")
                conv.build((None, None, self.num_mel_bins, step_channels))
                steps.append((conv, self._norm(f"block_{i}_norm_{j}", width)))
                step_channels = width
            # Stride 2 along time by slicing (`x[:, ::2]`) before a 1x1 conv
            # rather than with `strides=(2, 1)`: the oneDNN Conv2D filter
            # gradient of TF 2.21 corrupts the heap (segfault, "double free")
            # for some strided shapes, e.g. [29, 138, 80, 1] -> 16 channels.
            residual = keras.layers.Conv2D(width, 1, dtype=self.dtype_policy,
                                           name=f"block_{i}_residual_conv")
            residual.build((None, None, self.num_mel_bins, channels))
            residual_norm = self._norm(f"block_{i}_residual_norm", width) if i else None
            self._blocks.append((steps, residual, residual_norm))
            channels = width
        self._projection = keras.layers.Dense(self.hidden_size, dtype=self.dtype_policy,
                                              name="projection")
        self._projection.build((None, None, self.num_mel_bins * channels))
        self.built = True

    def _ensure_built(self, inputs_shape):
        if not self.built:
            self.build(tuple(inputs_shape))

    def _check_shape(self, shape):
        shape = tuple(shape)
        if len(shape) == 2 or (len(shape) == 3 and shape[-1] == self.num_mel_bins):
            return
        raise ValueError(
            "`AudioModality` takes a waveform `[B, N]` or log-mel features "
            f"`[B, T, {self.num_mel_bins}]` (num_mel_bins). Received: inputs.shape={shape}")

    def _waveform(self, x):
        """Float32 `[B, max(N, frame)]` in [-1, 1], zero-padded to at least one frame."""
        if "int" in keras.backend.standardize_dtype(x.dtype):
            x = ops.cast(x, "float32") / 32768.0
        x = ops.cast(x, "float32")
        short = ops.maximum(self._frame_length - ops.shape(x)[1], 0)
        return tf.pad(x, [[0, 0], [0, short]])

    def _log_mel(self, waveform):
        """`[B, N]` float32 → log-mel `[B, T, F]`."""
        stft = tf.signal.stft(waveform, self._frame_length, self._frame_step, self._fft_length)
        power = tf.math.square(tf.math.abs(stft))
        mel_matrix = tf.signal.linear_to_mel_weight_matrix(
            self.num_mel_bins, self._fft_length // 2 + 1, self.sample_rate,
            lower_edge_hertz=20.0, upper_edge_hertz=self.sample_rate / 2.0)
        return tf.math.log(tf.linalg.matmul(power, mel_matrix) + 1e-6)

    def _lengths(self, x):
        """`(real frames [B] int32, T)` of a waveform or features `x`."""
        self._check_shape(x.shape)
        if len(x.shape) == 2:
            positions = ops.arange(1, ops.shape(x)[1] + 1, dtype="int32")
            length = ops.max(ops.where(x != 0, positions[None, :], 0), axis=1)
            frames = ops.maximum((length - self._frame_length) // self._frame_step + 1, 0)
            total = ops.maximum(ops.shape(x)[1] - self._frame_length, 0) // self._frame_step + 1
            return frames, total
        positions = ops.arange(1, ops.shape(x)[1] + 1, dtype="int32")
        nonzero = ops.any(x != 0, axis=-1)
        frames = ops.max(ops.where(nonzero, positions[None, :], 0), axis=1)
        return frames, ops.shape(x)[1]

    def _compress(self, length):
        for _ in range(self.compression_steps):
            length = (length + 1) // 2
        return length

    @staticmethod
    def _time_mask(lengths, total):
        """Bool `[B, total]`: frame index < length."""
        return ops.arange(total, dtype="int32")[None, :] < ops.cast(lengths, "int32")[:, None]

    def bottom(self, x):
        """Encodes a waveform `[B, N]` or features `[B, T, F]` → `[B, T', hidden_size]`."""
        self._ensure_built(x.shape)
        lengths, total = self._lengths(x)
        if len(x.shape) == 2:
            features = self._log_mel(self._waveform(x))
        else:
            features = ops.cast(x, "float32")
        mask = ops.cast(self._time_mask(lengths, total), "float32")[:, :, None]
        count = ops.maximum(ops.sum(mask, axis=1, keepdims=True), 1.0)
        mean = ops.sum(features * mask, axis=1, keepdims=True) / count
        centered = (features - mean) * mask
        variance = ops.sum(ops.square(centered), axis=1, keepdims=True) / count
        x = ops.cast(centered * ops.rsqrt(variance + 1e-6), self.compute_dtype)
        x = ops.expand_dims(x, -1)  # [B, T, F, 1]
        for i, (steps, residual_conv, residual_norm) in enumerate(self._blocks):
            frame_mask = self._time_mask(lengths, total)[:, :, None, None]
            x = ops.where(frame_mask, x, 0.0)
            y = x
            for j, (conv, norm) in enumerate(steps):
                if i or j:
                    y = ops.relu(y)
                y = norm(conv(ops.where(frame_mask, y, 0.0)))
            y = ops.where(frame_mask, y, _NEG_INF)
            y = ops.pad(y, [[0, 0], [1, 1], [1, 1], [0, 0]], constant_values=_NEG_INF)
            y = ops.max_pool(y, (3, 3), strides=(2, 1), padding="valid")
            residual = residual_conv(x[:, ::2])
            x = y + (residual_norm(residual) if residual_norm is not None else residual)
            lengths, total = (lengths + 1) // 2, (total + 1) // 2
        shape = ops.shape(x)
        x = ops.reshape(x, (shape[0], shape[1], self.num_mel_bins * shape[3]))
        x = self._projection(x)
        return ops.where(self._time_mask(lengths, total)[:, :, None], x, 0.0)

    def bottom_mask(self, x):
        """Float32 `[B, T']`: 1 at real output frames, 0 at padding."""
        lengths, total = self._lengths(x)
        return ops.cast(self._time_mask(self._compress(lengths), self._compress(total)),
                        "float32")

    def targets_bottom(self, x):
        raise NotImplementedError(
            "AudioModality is inputs-only: audio targets (targets_bottom) are not supported.")

    def top(self, body_output, mask=None):
        raise NotImplementedError(
            "AudioModality is inputs-only: it has no top (audio outputs are not supported).")

    def loss(self, logits, targets, label_smoothing=0.0):
        raise NotImplementedError(
            "AudioModality is inputs-only: it has no loss (audio targets are not supported).")

    def call(self, inputs):
        return self.bottom(inputs)

    def compute_output_shape(self, inputs_shape):
        self._check_shape(inputs_shape)
        frames = inputs_shape[1]
        if frames is not None and len(inputs_shape) == 2:
            frames = max(frames - self._frame_length, 0) // self._frame_step + 1
        if frames is not None:
            frames = self._compress(frames)
        return (inputs_shape[0], frames, self.hidden_size)

    def get_config(self):
        config = super().get_config()
        config.update({
            "hidden_size": self.hidden_size,
            "sample_rate": self.sample_rate,
            "num_mel_bins": self.num_mel_bins,
            "compression_steps": self.compression_steps,
        })
        return config
