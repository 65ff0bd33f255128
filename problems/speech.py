"""Speech recognition problems: WSJ as users have it, and an offline stand-in.

* `speech_recognition_wsj`: the paper's WSJ, read from Kaldi-style data
  directories (what the Kaldi `egs/wsj` recipe's `wsj_data_prep.sh` and
  `wsj_format_data.sh` write), one per split under `--tmp_dir/wsj/`:

  | split | directory                    |
  |-------|------------------------------|
  | train | `<tmp_dir>/wsj/train_si284/` |
  | dev   | `<tmp_dir>/wsj/test_dev93/`  |
  | test  | `<tmp_dir>/wsj/test_eval92/` |

  Each holds `wav.scp` (`<utt-id> <path.wav>` lines; a relative path is
  resolved against the directory first, then the current directory; a
  `<utt-id> .../sph2pipe -f wav <file.wv1> |` pipe is run, without a shell,
  when that sph2pipe exists) and `text` (`<utt-id> <TRANSCRIPT>` lines, kept
  as written). Audio at any sample rate is resampled to 16 kHz.

* `speech_recognition_espeak`: real English spoken by espeak-ng
  (`apt-get install espeak-ng`) with many voices: 8 English accents x
  voice variants, speed and pitch varied, all drawn from a seed (the same
  seed gives the same shards). Its utterances are kept learnable at tiny
  scale (see the class docstring). Splits: train (espeak, train voices,
  Brown sentences), dev (espeak, held-out voice variants, held-out Brown
  sentences) and test: **real recorded speech**, the Asterisk prompts
  (Debian `asterisk-core-sounds-en-wav`, one professional speaker, 8 kHz
  resampled to 16 kHz, CC-BY-SA-3.0, fetched at datagen and never
  committed) plus spoken digit strings joined from its recorded digits.
"""

import concurrent.futures
import gzip
import os
import shlex
import shutil
import subprocess
import sys
from collections import Counter

import numpy as np

from t2t_multimodel import problem, registry, speech_problems
from t2t_multimodel.data import system_packages
from t2t_multimodel.errors import DataError

WSJ_DIRS = {problem.DatasetSplit.TRAIN: "train_si284",
            problem.DatasetSplit.EVAL: "test_dev93",
            problem.DatasetSplit.TEST: "test_eval92"}

ASTERISK_WAV_PACKAGE = "asterisk-core-sounds-en-wav"
ASTERISK_TEXT_PACKAGE = "asterisk-core-sounds-en"
ASTERISK_SOUNDS = "usr/share/asterisk/sounds/en_US_f_Allison"
ASTERISK_TRANSCRIPTS = "usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"


# ---- Kaldi data directories -------------------------------------------------
def read_kaldi_table(path):
    """`{key: rest of line}` of a Kaldi table file (`text`, `wav.scp`)."""
    table = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            key, _, rest = line.partition(" ")
            if not rest.strip():
                raise DataError(f"{path} line {number} has a key but no value; Kaldi tables "
                                f"hold '<utt-id> <value>' lines. Received: line={line!r}")
            table[key] = rest.strip()
    return table


def read_wav_scp_entry(entry, directory):
    """The WAV bytes of one `wav.scp` value: a path, or an `sph2pipe ... |` pipe."""
    if entry.endswith("|"):
        argv = shlex.split(entry[:-1])
        if not argv or os.path.basename(argv[0]) != "sph2pipe":
            raise DataError(f"wav.scp pipes other than sph2pipe are not supported; convert "
                            f"the audio to WAV files and list their paths. Received: "
                            f"entry={entry!r}")
        binary = argv[0] if os.path.isfile(argv[0]) else shutil.which(argv[0])
        if binary is None:
            raise DataError(f"wav.scp runs sph2pipe, which is not installed: install it "
                            f"(Kaldi tools/extras/install_sph2pipe.sh) or convert the audio "
                            f"to WAV files. Received: entry={entry!r}")
        result = subprocess.run([binary, *argv[1:]], capture_output=True, check=False)
        if result.returncode != 0:
            raise DataError(f"sph2pipe failed ({result.stderr.decode(errors='replace').strip()})"
                            f". Received: entry={entry!r}")
        return result.stdout
    path = entry
    if not os.path.isabs(path) and os.path.exists(os.path.join(directory, path)):
        path = os.path.join(directory, path)
    if not os.path.isfile(path):
        raise DataError(f"wav.scp in {directory} lists a missing audio file. "
                        f"Received: path={entry}")
    with open(path, "rb") as f:
        return f.read()


def kaldi_utterances(directory):
    """Yields `{"wav", "transcript", "utterance_id"}` of a Kaldi data directory."""
    for name in ("wav.scp", "text"):
        if not os.path.isfile(os.path.join(directory, name)):
            raise DataError(f"{directory} must hold a Kaldi wav.scp ('<utt-id> <path.wav>' "
                            f"lines) and text ('<utt-id> <TRANSCRIPT>' lines). "
                            f"Received: missing={os.path.join(directory, name)}")
    if os.path.exists(os.path.join(directory, "segments")):
        raise DataError(f"{directory} has a Kaldi segments file; only whole-file utterances "
                        f"are supported: cut the segments into WAV files first. "
                        f"Received: directory={directory}")
    wavs = read_kaldi_table(os.path.join(directory, "wav.scp"))
    texts = read_kaldi_table(os.path.join(directory, "text"))
    missing = sorted(set(texts) - set(wavs))
    if missing:
        raise DataError(f"{directory}/text names utterances that wav.scp lacks. "
                        f"Received: {len(missing)} missing, first={missing[0]}")
    for utt in sorted(texts):
        yield {"wav": read_wav_scp_entry(wavs[utt], directory),
               "transcript": texts[utt], "utterance_id": utt}


@registry.register_problem
class SpeechRecognitionWsj(speech_problems.SpeechRecognitionProblem):
    """WSJ (si284 / dev93 / eval92) from Kaldi data directories; see the module docstring."""

    @property
    def dataset_splits(self):
        return [{"split": problem.DatasetSplit.TRAIN, "shards": 10},
                {"split": problem.DatasetSplit.EVAL, "shards": 1},
                {"split": problem.DatasetSplit.TEST, "shards": 1}]

    def generate_samples(self, data_dir, tmp_dir, split):
        del data_dir
        directory = os.path.join(tmp_dir or "", "wsj", WSJ_DIRS[split])
        if not os.path.isdir(directory):
            raise DataError(
                f"{self.name} reads Kaldi data directories: put wav.scp and text of WSJ "
                f"train_si284, test_dev93 and test_eval92 into <tmp_dir>/wsj/<name>/ (as the "
                f"Kaldi egs/wsj recipe writes them). Received: missing directory={directory}")
        return kaldi_utterances(directory)


# ---- espeak-ng --------------------------------------------------------------
def speak(binary, text, voice, speed, pitch):
    """`(int16 waveform, sample_rate)` of espeak-ng saying `text` (given on stdin)."""
    result = subprocess.run([binary, "-v", voice, "-s", str(speed), "-p", str(pitch),
                             "--stdout", "--stdin"], input=text.encode("utf-8"),
                            capture_output=True, check=False)
    if result.returncode != 0 or not result.stdout:
        raise DataError(f"espeak-ng failed ({result.stderr.decode(errors='replace').strip()}). "
                        f"Received: voice={voice}, text={text!r}")
    return speech_problems.read_wav(result.stdout, source=f"espeak-ng {voice}")


def _words(sentence):
    return speech_problems.normalize_transcript(sentence).split()


@registry.register_problem
class SpeechRecognitionEspeak(speech_problems.SpeechRecognitionProblem):
    """English spoken by espeak-ng; real recorded Asterisk prompts as the test split.

    An utterance is either a spoken digit string ("four seven two") or a
    short phrase: consecutive words of a real Brown corpus sentence, all
    among its `phrase_vocabulary` most frequent words (lower case, no
    punctuation). Each is said by a random accent + voice variant at a
    random speed and pitch; `telephone_fraction` of them are band-limited
    to 8 kHz like the Asterisk recordings. Transcripts are lower case words.
    Difficulty knobs (class attributes): `num_train`, `num_dev`,
    `digit_fraction`, `max_digits`, `phrase_words`, `phrase_vocabulary`,
    `speeds`, `pitches`, `telephone_fraction`, `asterisk_digit_strings`,
    `test_max_seconds`, and `workers` (parallel espeak-ng processes).

    Dev holds out the voice variants `DEV_VARIANTS` and every tenth Brown
    sentence. Test is real speech: every Asterisk prompt with a transcript
    and at most `test_max_seconds` long (556 of the 563; median 3 words,
    open vocabulary: far harder than the training data) with
    `utterance_id` "asterisk/<name>", then
    `asterisk_digit_strings` digit strings joined from the recorded digits
    ("asterisk-digits/<i>"), which match the training task.
    """

    ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp",
               "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
    TRAIN_VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "f1", "f2", "f4", "f5", "Alex",
                      "Alicia", "Andy", "Gene", "Jacky", "Lee", "Michael", "adam", "anika",
                      "aunty", "belinda", "benjamin", "caleb", "david", "ed", "edward",
                      "grandma", "grandpa", "john", "klatt", "klatt2", "klatt3", "linda",
                      "paul", "rob", "robert", "steph", "travis", "victor", "norbert"]
    DEV_VARIANTS = ["m7", "m8", "f3", "Annie", "Mike", "klatt4", "quincy", "shelby"]

    seed = 1234
    num_train = 4000
    num_dev = 200
    digit_fraction = 0.5
    max_digits = 4
    phrase_words = (1, 3)
    phrase_vocabulary = 200
    speeds = (130, 210)
    pitches = (20, 80)
    telephone_fraction = 0.3
    asterisk_digit_strings = 100
    test_max_seconds = 15.0
    workers = 2
    approx_vocab_size = 2**9

    @property
    def dataset_splits(self):
        return [{"split": problem.DatasetSplit.TRAIN, "shards": 4},
                {"split": problem.DatasetSplit.EVAL, "shards": 1},
                {"split": problem.DatasetSplit.TEST, "shards": 1}]

    def sentences(self, tmp_dir):
        """The real sentences phrases are cut from (the Brown corpus)."""
        return system_packages.brown_sentences(tmp_dir)

    def generate_samples(self, data_dir, tmp_dir, split):
        del data_dir
        if split == problem.DatasetSplit.TEST:
            return self._asterisk_samples(tmp_dir)
        return self._espeak_samples(tmp_dir, split)

    # ---- espeak splits ----------------------------------------------------
    def _phrase_runs(self, tmp_dir, split):
        """Runs of common words (lists) of the split's sentences, for phrases."""
        if getattr(self, "_sentence_words", (None,))[0] != tmp_dir:
            self._sentence_words = (tmp_dir, [_words(s) for s in self.sentences(tmp_dir)])
        sentences = self._sentence_words[1]
        counts = Counter(w for words in sentences for w in words if w.isalpha())
        common = {w for w, _ in counts.most_common(self.phrase_vocabulary)}
        dev = split != problem.DatasetSplit.TRAIN
        runs, run = [], []
        for i, words in enumerate(sentences):
            if (i % 10 == 9) != dev:
                continue
            for word in words + [None]:
                if word in common:
                    run.append(word)
                elif run:
                    runs.append(run)
                    run = []
        if not runs:
            raise DataError(f"{self.name}: no phrase of the {self.phrase_vocabulary} most "
                            f"common words in the sentences. Received: split={split}")
        return runs

    def _utterance_specs(self, tmp_dir, split):
        """(text, voice, speed, pitch, telephone) per utterance, drawn from the seed."""
        train = split == problem.DatasetSplit.TRAIN
        rng = np.random.RandomState(self.seed + (0 if train else 1))
        count = self.num_train if train else self.num_dev
        variants = self.TRAIN_VARIANTS if train else self.DEV_VARIANTS
        low, high = self.phrase_words
        runs = self._phrase_runs(tmp_dir, split) if self.digit_fraction < 1 else []
        # runs[k]: the runs that hold a phrase of k words.
        runs = [[r for r in runs if len(r) >= k] for k in range(high + 1)]
        specs = []
        for _ in range(count):
            if rng.rand() < self.digit_fraction:
                n = rng.randint(1, self.max_digits + 1)
                words = [speech_problems.DIGIT_WORDS[d] for d in rng.randint(0, 10, n)]
            else:
                k = rng.randint(low, high + 1)
                while not runs[k]:
                    k -= 1
                run = runs[k][rng.randint(len(runs[k]))]
                start = rng.randint(len(run) - k + 1)
                words = run[start:start + k]
            variant = variants[rng.randint(len(variants))]
            accent = self.ACCENTS[rng.randint(len(self.ACCENTS))]
            specs.append((" ".join(words), f"{accent}+{variant}" if variant else accent,
                          int(rng.randint(self.speeds[0], self.speeds[1] + 1)),
                          int(rng.randint(self.pitches[0], self.pitches[1] + 1)),
                          bool(rng.rand() < self.telephone_fraction)))
        return specs

    def _espeak_samples(self, tmp_dir, split):
        binary = system_packages.require_binary("espeak-ng", "espeak-ng")
        specs = self._utterance_specs(tmp_dir, split)

        def synthesize(spec):
            text, voice, speed, pitch, telephone = spec
            waveform, rate = speak(binary, text, voice, speed, pitch)
            if telephone:  # The 4 kHz band of a telephone, like the Asterisk prompts.
                waveform, rate = speech_problems.resample(waveform, rate, 8000), 8000
            return waveform, rate

        with concurrent.futures.ThreadPoolExecutor(self.workers) as pool:
            for start in range(0, len(specs), 64):
                chunk = specs[start:start + 64]
                for i, (spec, (waveform, rate)) in enumerate(
                        zip(chunk, pool.map(synthesize, chunk), strict=True)):
                    yield {"waveform": waveform, "sample_rate": int(rate),
                           "transcript": spec[0],
                           "utterance_id": f"espeak/{split}/{start + i:05d}/{spec[1]}"}

    # ---- The real test split ----------------------------------------------
    def _asterisk_samples(self, tmp_dir):
        digit_zero = system_packages.debian_path(
            ASTERISK_WAV_PACKAGE, f"{ASTERISK_SOUNDS}/digits/0.wav", tmp_dir)
        sounds = os.path.dirname(os.path.dirname(digit_zero))
        transcripts = system_packages.debian_path(ASTERISK_TEXT_PACKAGE, ASTERISK_TRANSCRIPTS,
                                                  tmp_dir)
        with gzip.open(transcripts, "rt", encoding="utf-8", errors="replace") as f:
            lines = [line.rstrip("\n") for line in f]
        count = 0
        for line in lines:
            name, sep, text = line.partition(": ")
            path = os.path.join(sounds, f"{name}.wav")
            if not sep or line.startswith(";") or text.startswith("[") or not os.path.isfile(
                    path):
                continue
            transcript = speech_problems.normalize_transcript(text)
            with open(path, "rb") as wav:
                waveform, rate = speech_problems.read_wav(wav.read(), source=path)
            if transcript and waveform.size <= self.test_max_seconds * rate:
                count += 1
                yield {"waveform": waveform, "sample_rate": rate, "transcript": transcript,
                       "utterance_id": f"asterisk/{name}"}
        if not count:
            raise DataError(f"no Asterisk prompt has both a WAV in {sounds} and a transcript "
                            f"in {transcripts}; reinstall {ASTERISK_WAV_PACKAGE}. "
                            f"Received: sounds={sounds}")
        digits = []
        for d in range(10):
            with open(os.path.join(sounds, "digits", f"{d}.wav"), "rb") as wav:
                digits.append(speech_problems.read_wav(wav.read()))
        rng = np.random.RandomState(self.seed + 2)
        for i in range(self.asterisk_digit_strings):
            chosen = rng.randint(0, 10, rng.randint(1, self.max_digits + 1))
            rate = digits[0][1]
            parts = []
            for d in chosen:
                parts.append(digits[d][0])
                parts.append(np.zeros(int(rate * rng.uniform(0.05, 0.2)), np.int16))
            yield {"waveform": np.concatenate(parts), "sample_rate": rate,
                   "transcript": " ".join(speech_problems.DIGIT_WORDS[d] for d in chosen),
                   "utterance_id": f"asterisk-digits/{i:04d}"}
        print(f"{self.name} test: {count} real Asterisk prompts + "
              f"{self.asterisk_digit_strings} real digit strings", file=sys.stderr, flush=True)
