"""Captioning problems: COCO (fixture json + JPEGs), Tux Paint (fixture stamp tree), shapes."""

import json
import os
import re

import numpy as np
import pytest
import tensorflow as tf

from t2t_multimodel import registry
from t2t_multimodel.errors import DataError
from t2t_multimodel.problems import caption


def _examples(p, data_dir, mode):
    ds = p.dataset(mode, data_dir, batch=False, repeat=False, shuffle_files=False)
    return list(ds.as_numpy_iterator())


def _decode(p, data_dir, ids):
    return p.get_feature_encoders(data_dir)["targets"].decode([i for i in ids if i > 1])


def _write_jpeg(path, height, width, colour):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pixels = np.zeros([height, width, 3], np.uint8) + np.array(colour, np.uint8)
    with open(path, "wb") as f:
        f.write(tf.io.encode_jpeg(pixels, quality=100).numpy())


# ---- image_ms_coco_tokens ---------------------------------------------------
COCO = {
    "train2014": {9: ("red", [(1, "A red  square on a table."), (5, "Something red.")]),
                  25: ("green", [(2, "A green field with grass.")]),
                  30: ("blue", [(3, "The blue sky."), (4, "A blue wall."),
                                (7, "Blue paint.")])},
    "val2014": {42: ("red", [(8, "A red apple."), (9, "Red fruit on a plate.")]),
                73: ("blue", [(10, "A blue car.")])},
}
RGB = {"red": (250, 0, 0), "green": (0, 250, 0), "blue": (0, 0, 250)}


def _write_coco(tmp_dir):
    for split, images in COCO.items():
        info = {"images": [], "annotations": []}
        for image_id, (colour, captions) in images.items():
            name = f"COCO_{split}_{image_id:012d}.jpg"
            _write_jpeg(os.path.join(tmp_dir, "coco", split, name), 48 + image_id, 80, RGB[colour])
            info["images"].append({"id": image_id, "file_name": name, "height": 48 + image_id,
                                   "width": 80})
            info["annotations"] += [{"id": i, "image_id": image_id, "caption": c}
                                    for i, c in reversed(captions)]
        path = os.path.join(tmp_dir, "coco", "annotations", f"captions_{split}.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(info, f)


def _colour(pixels):
    return ["red", "green", "blue"][int(np.argmax(pixels.reshape(-1, 3).mean(0)))]


def test_coco_reads_captions_json_and_jpeg_folders(tmp_path):
    tmp_dir, data_dir = str(tmp_path / "tmp"), str(tmp_path / "data")
    _write_coco(tmp_dir)
    p = registry.problem("image_ms_coco_tokens")
    p.generate_data(data_dir, tmp_dir)
    train = _examples(p, data_dir, "train")
    pairs = sorted((_colour(ex["inputs"]), _decode(p, data_dir, ex["targets"])) for ex in train)
    expected = sorted((colour, " ".join(c.split())) for colour, captions
                      in COCO["train2014"].values() for _, c in captions)
    assert pairs == expected  # one example per (image, caption), whitespace normalised
    for ex in train:
        assert ex["inputs"].shape == (64, 64, 3) and ex["inputs"].dtype == np.uint8
    dev = list(p.decode_examples("eval", data_dir))
    # One dev example per image (10 shards, read in order: image 42, then 73),
    # every caption of an image a reference, in annotation-id order.
    assert [p.dev_pair(ex)[1] for ex in dev] == [
        ["A red apple.", "Red fruit on a plate."], "A blue car."]
    assert [_colour(tf.io.decode_png(p.dev_pair(ex)[0]).numpy()) for ex in dev] == [
        "red", "blue"]
    assert p.decode_metrics() == ["bleu"]


def test_coco_missing_files_say_what_to_put_where(tmp_path):
    p = registry.problem("image_ms_coco_tokens")
    tmp_dir = str(tmp_path / "tmp")
    with pytest.raises(DataError) as info:
        p.generate_data(str(tmp_path / "data"), tmp_dir)
    message = str(info.value)
    assert "\n" not in message
    for part in ["annotations/captions_train2014.json", "train2014/", "--tmp_dir/coco/",
                 f"Received: annotations={tmp_dir}/coco/annotations/captions_train2014.json"]:
        assert part in message
    _write_coco(tmp_dir)
    with open(os.path.join(tmp_dir, "coco", "annotations", "captions_train2014.json"), "w") as f:
        f.write('{"images": []')
    with pytest.raises(DataError, match="is not a COCO captions file"):
        p.generate_data(str(tmp_path / "data"), tmp_dir)
    assert os.listdir(tmp_path / "data") == []


# ---- image_caption_tuxpaint ------------------------------------------------
STAMPS = {  # relpath without extension: (first line, colour or None for SVG-only)
    "animals/birds/penguin": ("A penguin.", "blue"),
    "food/fruit/apple": ("A  red apple.", "red"),
    "food/vegetables/corn": ("Sweet yellow corn.", "green"),
    "symbols/letters/m": ("The letter M.", "red"),
    "town/house": ("A house.", None),
}


def _write_stamps(root):
    from PIL import Image

    for relpath, (first, colour) in STAMPS.items():
        base = os.path.join(root, relpath)
        os.makedirs(os.path.dirname(base), exist_ok=True)
        with open(base + ".txt", "w", encoding="utf-8") as f:
            f.write(f"{first}\nde.utf8=Übersetzung.\nfr.utf8=Traduction.\n")
        if colour is None:
            with open(base + ".svg", "w") as f:
                f.write("<svg xmlns='http://www.w3.org/2000/svg'/>")
            continue
        rgba = np.zeros([30, 60, 4], np.uint8)  # a wide stamp, transparent around a block
        rgba[5:25, 10:50] = RGB[colour] + (255,)
        Image.fromarray(rgba).save(base + ".png")
    Image.fromarray(np.zeros([8, 8, 3], np.uint8)).save(
        os.path.join(root, "animals/birds/penguin_mirror.png"))  # no .txt: not a stamp


@pytest.fixture
def stamps_root(tmp_path, monkeypatch):
    monkeypatch.setenv("T2T_DEB_ROOT", str(tmp_path / "root"))
    root = str(tmp_path / "root" / caption.TUXPAINT_STAMPS)
    _write_stamps(root)
    return root


def test_tuxpaint_reads_first_lines_and_pngs_skipping_svg_only(stamps_root, tmp_path):
    assert caption.tuxpaint_stamps(stamps_root) == [
        ("animals/birds/penguin.png", "A penguin."), ("food/fruit/apple.png", "A red apple."),
        ("food/vegetables/corn.png", "Sweet yellow corn."),
        ("symbols/letters/m.png", "The letter M.")]
    p = registry.problem("image_caption_tuxpaint")
    p.dev_percent = 50  # with 4 stamps, some in each split
    data_dir = str(tmp_path / "data")
    p.generate_data(data_dir, str(tmp_path / "tmp"))
    assert not os.path.exists(tmp_path / "tmp" / "debian")  # installed: nothing fetched
    found = {}
    for mode in ("train", "eval"):
        for ex in _examples(p, data_dir, mode):
            assert ex["inputs"].shape == (32, 32, 3)
            # Composited on white and padded to a square: white corners, the block inside.
            assert tuple(ex["inputs"][0, 0]) == (255, 255, 255)
            found[_decode(p, data_dir, ex["targets"])] = (mode, tuple(ex["inputs"][16, 16]))
    expected = {" ".join(first.split()): ("eval" if p.is_dev(rel + ".png") else "train",
                                          RGB[colour])
                for rel, (first, colour) in STAMPS.items() if colour}
    assert found == expected
    assert {mode for mode, _ in found.values()} == {"train", "eval"}


def test_tuxpaint_without_the_package_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("T2T_DEB_ROOT", str(tmp_path / "root"))
    with pytest.raises(DataError, match="tuxpaint-stamps-default"):
        registry.problem("image_caption_tuxpaint").generate_data(str(tmp_path / "data"), None)


# ---- image_caption_shapes --------------------------------------------------
PHRASE = r"a (small|large) (red|green|blue|yellow|white|orange) (circle|square|triangle)"
GRAMMAR = re.compile(rf"^{PHRASE}( (to the left of|above) {PHRASE})?$")


def test_shapes_captions_follow_the_grammar_and_describe_the_image():
    rng = np.random.RandomState(0)
    counts = {1: 0, 2: 0}
    for _ in range(300):
        pixels, text = caption.random_scene(rng, 32)
        match = GRAMMAR.match(text)
        assert match, text
        assert pixels.shape == (32, 32, 3) and pixels.dtype == np.uint8
        two = match.group(4) is not None
        counts[2 if two else 1] += 1
        if not two:
            continue
        # The first-named shape is in the left (or top) half and has its colour.
        axis = 1 if match.group(5) == "to the left of" else 0
        for half, colour in ((0, match.group(2)), (1, match.group(7))):
            part = np.split(pixels, 2, axis=axis)[half]
            drawn = part[part.sum(-1) > 0].astype(int)
            assert len(drawn), text
            assert np.abs(drawn.mean(0) - caption.COLOURS[colour]).max() <= 12, text
    assert 60 < counts[1] < 140 and counts[2] > 160


def test_shapes_sizes_differ_and_generation_is_deterministic(tmp_path):
    small = caption.shape_mask("circle", 16, 16, 0.25 * 32, 32).sum()
    large = caption.shape_mask("circle", 16, 16, 0.45 * 32, 32).sum()
    assert 2.5 < large / small < 4
    for shape in caption.SHAPES:
        assert caption.shape_mask(shape, 16, 16, 14, 32).sum() > 80

    class Few(caption.ImageCaptionShapes):
        REGISTERED_NAME = "few_shapes_for_test"
        train_size, dev_size = 60, 20

    runs = []
    for run in ("a", "b"):
        Few().generate_data(str(tmp_path / run), None)
        runs.append({name: open(tmp_path / run / name, "rb").read()
                     for name in sorted(os.listdir(tmp_path / run))})
    assert runs[0] == runs[1] and len(runs[0]) == 4  # 2 train shards, dev, vocabulary
    dev = _examples(Few(), str(tmp_path / "a"), "eval")
    train = _examples(Few(), str(tmp_path / "a"), "train")
    assert (len(train), len(dev)) == (60, 20)
    assert not {ex["inputs"].tobytes() for ex in dev} & {ex["inputs"].tobytes() for ex in train}
