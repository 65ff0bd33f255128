"""Registered mixtures: several problems trained as one MultiModel.

`multimodel_paper_offline` mirrors the paper's eight-problem joint training
(Kaiser et al. 2017, §4: WSJ speech, ImageNet, COCO captions, WSJ parsing and
WMT en<->de, en<->fr) with the offline stand-in of each slot, all real data
installed from the package registries at datagen time (the README's table of
the eight slots says what each replaces, its size and licence):

| paper problem | stand-in here |
|---|---|
| ImageNet | `image_fashion_mnist` (Fashion-MNIST, Debian `dataset-fashion-mnist`) |
| COCO captions | `image_caption_tuxpaint` (Tux Paint's human-written captions) |
| WSJ speech | `speech_recognition_espeak` (espeak-ng over real sentences) |
| WSJ parsing | `parsing_english_silver` (link-grammar silver trees of Brown sentences) |
| WMT en->de, de->en | `translate_ende_offline`, `translate_deen_offline` |
| WMT en->fr, fr->en | `translate_enfr_offline`, `translate_fren_offline` |

The schedule is uniform, as in the paper: each step trains one batch of one
problem, each problem equally often.

    t2t-datagen --problem=multimodel_paper_offline --data_dir=~/t2t_data
    t2t-trainer --problem=multimodel_paper_offline --model=multimodel ...
"""

from t2t_multimodel import mixture, registry

PAPER_OFFLINE_PROBLEMS = [
    "image_fashion_mnist",
    "image_caption_tuxpaint",
    "speech_recognition_espeak",
    "parsing_english_silver",
    "translate_ende_offline",
    "translate_deen_offline",
    "translate_enfr_offline",
    "translate_fren_offline",
]


@registry.register_mixture
def multimodel_paper_offline():
    """The paper's eight problems, each replaced by its offline stand-in."""
    return mixture.Mixture(PAPER_OFFLINE_PROBLEMS, schedule="uniform")
