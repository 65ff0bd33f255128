"""speech_recognition_wsj (Kaldi data directories) and speech_recognition_espeak datagen."""

import gzip
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from t2t_multimodel import problem, speech_problems
from t2t_multimodel.data import shards
from t2t_multimodel.errors import DataError
from t2t_multimodel.problems import speech

ESPEAK_INSTALL = "apt-get install espeak-ng"


def _tone(seconds, rate, freq=440.0):
    t = np.arange(int(seconds * rate)) / rate
    return (6000 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def _write(path, data, mode="wb"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(data)


def _rows(data_dir, name, split):
    spec = {"audio/encoded": tf.io.FixedLenFeature([], tf.string),
            "utterance_id": tf.io.FixedLenFeature([], tf.string),
            "targets": tf.io.FixedLenFeature([], tf.string)}
    files = shards.find_shards(data_dir, name, split)
    rows = [tf.io.parse_single_example(r, spec) for r in tf.data.TFRecordDataset(files)]
    return [(r["utterance_id"].numpy().decode(), r["targets"].numpy().decode(),
             speech_problems.read_wav(r["audio/encoded"].numpy())) for r in rows]


# ---- WSJ as a Kaldi data directory ---------------------------------------------
def _kaldi_dir(tmp_dir, name, utterances):
    """Writes `<tmp_dir>/wsj/<name>/{wav.scp,text}` with WAV files (relative and absolute)."""
    directory = os.path.join(tmp_dir, "wsj", name)
    scp, text = [], []
    for i, (utt, transcript, seconds, rate) in enumerate(utterances):
        relative = f"wav/{utt}.wav"
        _write(os.path.join(directory, relative),
               speech_problems.wav_bytes(_tone(seconds, rate, 300 + 100 * i), rate))
        scp.append(f"{utt} {relative if i % 2 else os.path.join(directory, relative)}")
        text.append(f"{utt} {transcript}")
    _write(os.path.join(directory, "wav.scp"), "\n".join(scp[::-1]) + "\n", "w")
    _write(os.path.join(directory, "text"), "\n".join(text) + "\n", "w")
    return directory


WSJ = {
    "train_si284": [("011c0201", "THE SALE OF THE HOTELS", 0.5, 16000),
                    ("011c0202", "IS PART OF A PLAN", 0.3, 8000),
                    ("011c0203", "TO DEVELOP <NOISE> A NEW BRAND", 0.4, 16000)],
    "test_dev93": [("4k0c0301", "PRICES ROSE", 0.2, 16000)],
    "test_eval92": [("440c0401", "THE INDEX FELL", 0.25, 16000)],
}


def test_wsj_reads_kaldi_data_directories(tmp_path):
    tmp_dir, data_dir = str(tmp_path / "tmp"), str(tmp_path / "data")
    for name, utterances in WSJ.items():
        _kaldi_dir(tmp_dir, name, utterances)
    p = speech.SpeechRecognitionWsj()
    p.generate_data(data_dir, tmp_dir)
    for split, name in speech.WSJ_DIRS.items():
        rows = _rows(data_dir, "speech_recognition_wsj", split)
        expected = sorted(WSJ[name])
        assert [(utt, text) for utt, text, _ in rows] == [(u, t) for u, t, _, _ in expected]
        for (_, _, (waveform, rate)), (_, _, seconds, _) in zip(rows, expected, strict=True):
            assert rate == 16000 and abs(waveform.size - seconds * 16000) <= 1
    # The 8 kHz file was resampled, and keeps its tone.
    _, _, (waveform, _) = _rows(data_dir, "speech_recognition_wsj", "train")[1]
    spectrum = np.abs(np.fft.rfft(waveform))
    assert abs(np.argmax(spectrum) * 16000 / waveform.size - 400) < 5


def test_wsj_missing_data_says_what_to_put_where(tmp_path):
    with pytest.raises(DataError, match=r"wav.scp and text .*<tmp_dir>/wsj/<name>/.*"
                                        r"Received: missing directory=.*train_si284"):
        speech.SpeechRecognitionWsj().generate_data(str(tmp_path / "d"), str(tmp_path / "t"))


def test_wsj_refuses_bad_tables_and_pipes(tmp_path):
    directory = _kaldi_dir(str(tmp_path), "train_si284", WSJ["train_si284"])
    with open(os.path.join(directory, "text"), "a") as f:
        f.write("011c0299 NO AUDIO FOR THIS ONE\n")
    with pytest.raises(DataError, match="names utterances that wav.scp lacks.*011c0299"):
        list(speech.kaldi_utterances(directory))
    if shutil.which("sph2pipe") is None:
        with pytest.raises(DataError, match="sph2pipe, which is not installed"):
            speech.read_wav_scp_entry("sph2pipe -f wav /wsj/011c0201.wv1 |", directory)
    with pytest.raises(DataError, match="pipes other than sph2pipe are not supported"):
        speech.read_wav_scp_entry("sox /wsj/a.flac -t wav - |", directory)
    with pytest.raises(DataError, match="missing audio file"):
        speech.read_wav_scp_entry("wav/nowhere.wav", directory)


# ---- espeak-ng and the Asterisk test split ----------------------------------------
class TinyEspeak(speech.SpeechRecognitionEspeak):
    num_train = 6
    num_dev = 3
    asterisk_digit_strings = 2
    phrase_vocabulary = 20

    def sentences(self, tmp_dir):
        return ["The jury said it did find that the city was right.",
                "It is the first time in the history of the state.",
                "He said that the man was in the house."] * 5


def _fake_asterisk(root):
    """The two Debian packages' layout: 8 kHz WAVs and the gzipped transcripts."""
    sounds = os.path.join(root, speech.ASTERISK_SOUNDS)
    for d in range(10):
        _write(f"{sounds}/digits/{d}.wav",
               speech_problems.wav_bytes(_tone(0.2, 8000, 300 + 50 * d), 8000))
    _write(f"{sounds}/vm-goodbye.wav", speech_problems.wav_bytes(_tone(0.5, 8000), 8000))
    _write(f"{sounds}/beep.wav", speech_problems.wav_bytes(_tone(0.1, 8000), 8000))
    text = ("; Core Asterisk Sounds in English\n\nbeep: [this is a simple beep tone]\n"
            "vm-goodbye: Goodbye!\nmissing-file: Not recorded.\ndigits/1: one\n")
    _write(os.path.join(root, speech.ASTERISK_TRANSCRIPTS), gzip.compress(text.encode()))


@pytest.fixture(scope="module")
def espeak_data(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip(f"espeak-ng is not installed: {ESPEAK_INSTALL}")
    root = str(tmp_path_factory.mktemp("debroot"))
    _fake_asterisk(root)
    old = os.environ.get("T2T_DEB_ROOT")
    os.environ["T2T_DEB_ROOT"] = root
    try:
        dirs = []
        for _ in range(2):  # Twice: the same seed gives the same shards.
            data_dir = str(tmp_path_factory.mktemp("espeak"))
            TinyEspeak().generate_data(data_dir, data_dir + "/tmp")
            dirs.append(data_dir)
    finally:
        if old is None:
            os.environ.pop("T2T_DEB_ROOT")
        else:
            os.environ["T2T_DEB_ROOT"] = old
    return dirs


def test_espeak_speaks_phrases_and_digits_with_held_out_voices(espeak_data):
    data_dir = espeak_data[0]
    train = _rows(data_dir, "speech_recognition_espeak", "train")
    dev = _rows(data_dir, "speech_recognition_espeak", "eval")
    assert len(train) == 6 and len(dev) == 3
    words = set(" ".join(TinyEspeak().sentences(None)).lower().replace(".", "").split())
    for _, text, (waveform, rate) in train + dev:
        assert rate == 16000 and 0.1 < waveform.size / rate < 5
        assert np.abs(waveform).max() > 1000  # Speech, not silence.
        assert set(text.split()) <= words | set(speech_problems.DIGIT_WORDS), text
    voices = lambda rows: {utt.split("/")[-1].partition("+")[2] for utt, _, _ in rows}  # noqa
    assert voices(dev) <= set(TinyEspeak.DEV_VARIANTS)
    assert not voices(dev) & voices(train)


def test_espeak_datagen_is_deterministic(espeak_data):
    for split in ("train", "dev", "test"):
        a, b = (sorted(shards.find_shards(d, "speech_recognition_espeak", split))
                for d in espeak_data)
        assert [open(x, "rb").read() for x in a] == [open(y, "rb").read() for y in b]


def test_test_split_is_the_asterisk_recordings(espeak_data):
    rows = _rows(espeak_data[0], "speech_recognition_espeak", "test")
    assert [(utt, text) for utt, text, _ in rows][:2] == [("asterisk/vm-goodbye", "goodbye"),
                                                          ("asterisk/digits/1", "one")]
    digit_strings = rows[2:]
    assert [utt for utt, _, _ in digit_strings] == ["asterisk-digits/0000",
                                                    "asterisk-digits/0001"]
    for _, _, (_, rate) in rows:
        assert rate == 16000  # Resampled from 8 kHz.
    for _, text, (waveform, _) in digit_strings:
        assert 1 <= len(text.split()) <= TinyEspeak.max_digits
        assert set(text.split()) <= set(speech_problems.DIGIT_WORDS)
        assert waveform.size >= len(text.split()) * 0.25 * 16000


def test_espeak_vocabulary_and_problem_hparams(espeak_data):
    p = TinyEspeak()
    p.get_feature_encoders(espeak_data[0])
    hparams = p.get_hparams(data_dir=espeak_data[0])
    assert hparams.modality == {"inputs": "audio", "targets": "symbol"}
    assert (hparams.input_space_id, hparams.target_space_id) == (
        problem.SpaceID.AUDIO_WAV, problem.SpaceID.EN_TOK)
    encoder = p.get_feature_encoders(espeak_data[0])["targets"]
    assert encoder.decode(encoder.encode("four seven two")) == "four seven two"
