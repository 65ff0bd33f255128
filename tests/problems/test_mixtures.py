"""The registered eight-problem mixture names one stand-in per paper slot."""

from t2t_multimodel import mixture, registry
from t2t_multimodel.problems import mixtures


def test_paper_offline_mixture_has_one_problem_per_modality_pair():
    mix = mixture.resolve("multimodel_paper_offline")
    assert mix.problems == mixtures.PAPER_OFFLINE_PROBLEMS and mix.schedule == "weighted"
    rates = dict(zip(mix.problems, mix.rates(), strict=True))
    # Parsing needs the most steps, the image problems the fewest.
    assert max(rates, key=rates.get) == "parsing_english_silver"
    assert rates["image_fashion_mnist"] == min(rates.values())
    uniform = mixture.resolve("multimodel_paper_offline_uniform")
    assert uniform.problems == mix.problems and uniform.rates() == [1 / 8] * 8
    problems = [registry.problem(name) for name in mix.problems]
    modalities = {}
    for p in problems:
        php = p.get_hparams() if p.name == "image_fashion_mnist" else None
        modalities[p.name] = php.modality if php else None
    # Fashion-MNIST needs no data to tell its modalities; the others name theirs in
    # their docstrings and are checked by their own tests.
    assert modalities["image_fashion_mnist"] == {"inputs": "image", "targets": "class_label"}
    assert len({p.name for p in problems}) == 8


def test_datagen_accepts_a_mixture_name():
    assert "multimodel_paper_offline" in registry.list_mixtures()
    assert mixture.resolve("multimodel_paper_offline").problems[0] == "image_fashion_mnist"
