"""Tests of `ModalitySet`: which problems share a modality net."""

from t2t_multimodel import registry
from t2t_multimodel.models.modality_set import ModalitySet
from t2t_multimodel.problem_hparams import ProblemHParams


def _php(vocab_name=None, size=32):
    names = {"inputs": vocab_name, "targets": vocab_name} if vocab_name else None
    return ProblemHParams(modality={"inputs": "symbol", "targets": "symbol"},
                          vocab_size={"inputs": size, "targets": size}, vocab_name=names)


def _modalities(by_name):
    hparams = registry.hparams("multimodel_tiny")()
    return ModalitySet(hparams, by_name)


def test_same_vocabulary_file_shares_one_net():
    modalities = _modalities({"ende": _php("vocab.ende.4096.subwords"),
                              "deen": _php("vocab.ende.4096.subwords")})
    assert modalities.target("ende") is modalities.target("deen")
    assert modalities.input("ende") is modalities.input("deen")


def test_different_vocabularies_of_one_size_never_share():
    modalities = _modalities({"speech": _php("vocab.speech.4096.subwords"),
                              "parse": _php("vocab.parse.4096.subwords")})
    assert modalities.target("speech") is not modalities.target("parse")
    assert "vocab_speech_4096_subwords" in modalities.target("speech").name


def test_without_vocab_names_the_size_decides_as_in_t2t():
    modalities = _modalities({"a": _php(), "b": _php(), "c": _php(size=16)})
    assert modalities.target("a") is modalities.target("b")
    assert modalities.target("a") is not modalities.target("c")


def test_vocab_name_round_trips_through_the_run_record():
    php = _php("vocab.x.subwords")
    assert ProblemHParams.from_dict(php.to_dict()).vocab_name == php.vocab_name
