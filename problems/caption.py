"""Image captioning problems: COCO as users have it, and two offline stand-ins.

* `image_ms_coco_tokens`: MS-COCO 2014 captions (the paper's data), read
  from `--tmp_dir/coco/annotations/captions_{train,val}2014.json` and the
  JPEG folders `--tmp_dir/coco/{train2014,val2014}/` (T2T's layout, the
  files as cocodataset.org distributes them). Train: one example per
  (image, caption); dev: val2014, one example per image with all its
  captions as references. Images are resized (shorter side, then a centre
  crop) to `image_size` x `image_size` RGB.
* `image_caption_tuxpaint`: the real human-written one-line descriptions of
  Debian's `tuxpaint-stamps-default` clip art (GPL-2, fetched at datagen
  time, never committed): the first line of each stamp's `.txt` is the
  English caption of the `.png` beside it. PNGs are composited on white,
  padded to a square and resized to `image_size`. SVG-only stamps are
  skipped (no SVG rasterizer is a dependency). Dev: the stamps whose path
  hashes into `dev_percent`, so the split is fixed and does not move when
  stamps are added.
* `image_caption_shapes`: generated scenes (`random_scene`): 1-2 shapes
  (circle, square, triangle) x 6 colours x 2 sizes, side by side or one
  above the other, with compositional captions, "a small blue circle to the
  left of a large red triangle"; drawn with numpy from a seeded generator,
  so every run writes the same data.
"""

import collections
import json
import os
import sys
import zlib

import numpy as np

from t2t_multimodel import image_text_problems, problem, registry
from t2t_multimodel.data import system_packages
from t2t_multimodel.errors import DataError
from t2t_multimodel.problems import image

COCO_SPLITS = {problem.DatasetSplit.TRAIN: "train2014", problem.DatasetSplit.EVAL: "val2014"}
TUXPAINT_PACKAGE = "tuxpaint-stamps-default"
TUXPAINT_STAMPS = "usr/share/tuxpaint/stamps"


def _log(message):
    print(message, file=sys.stderr, flush=True)


@registry.register_problem
class ImageMsCocoTokens(image_text_problems.Image2TextProblem):
    """MS-COCO 2014 captions from the distributed json + JPEG folders."""

    image_size = 64
    seed = 1234

    @property
    def approx_vocab_size(self):
        return 2**13

    @property
    def dataset_splits(self):
        return [{"split": problem.DatasetSplit.TRAIN, "shards": 100},
                {"split": problem.DatasetSplit.EVAL, "shards": 10}]

    @property
    def tokens_per_example(self):
        return self.image_size * self.image_size // 16

    def generate_samples(self, data_dir, tmp_dir, split):
        del data_dir
        name = COCO_SPLITS[problem.DatasetSplit.TRAIN if split == problem.DatasetSplit.TRAIN
                           else problem.DatasetSplit.EVAL]
        coco = os.path.join(tmp_dir or "", "coco")
        annotations = os.path.join(coco, "annotations", f"captions_{name}.json")
        folder = os.path.join(coco, name)
        if not tmp_dir or not os.path.isfile(annotations) or not os.path.isdir(folder):
            raise DataError(
                f"{self.name} reads MS-COCO 2014 as cocodataset.org distributes it: put "
                f"annotations/captions_{name}.json (from annotations_trainval2014.zip) and the "
                f"{name}/ JPEG folder (from {name}.zip) in --tmp_dir/coco/. Received: "
                f"annotations={annotations}, images={folder}")
        files, captions = _coco_captions(annotations)
        image_ids = sorted(captions)
        if split == problem.DatasetSplit.TRAIN:
            image_ids = [image_ids[i] for i in
                         np.random.RandomState(self.seed).permutation(len(image_ids))]
        _log(f"{self.name} {split}: {len(image_ids)} images, "
             f"{sum(len(captions[i]) for i in image_ids)} captions in {annotations}")
        for image_id in image_ids:
            path = os.path.join(folder, files[image_id])
            yield {"image": image.read_image(path, self.image_size, crop=True),
                   "captions": captions[image_id]}


def _coco_captions(path):
    """`({image_id: file_name}, {image_id: [caption, ...]})` of a COCO captions json."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        files = {int(im["id"]): im["file_name"] for im in data["images"]}
        captions = collections.defaultdict(list)
        for annotation in sorted(data["annotations"], key=lambda a: a["id"]):
            caption = " ".join(annotation["caption"].split())
            if caption:
                captions[int(annotation["image_id"])].append(caption)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"{path} is not a COCO captions file ({type(e).__name__}: {e}); "
                        f"download it again. Received: path={path}") from None
    missing = sorted(set(captions) - set(files))
    if missing:
        raise DataError(f"{path} has captions of images it does not list. "
                        f"Received: image_id={missing[0]}")
    return files, dict(captions)


@registry.register_problem
class ImageCaptionTuxpaint(image_text_problems.Image2TextProblem):
    """Tux Paint stamps and their English descriptions (real human captions)."""

    image_size = 32
    image_fit = "pad"
    dev_percent = 10
    seed = 1234

    @property
    def approx_vocab_size(self):
        return 2**11

    @property
    def dataset_splits(self):
        return [{"split": problem.DatasetSplit.TRAIN, "shards": 1},
                {"split": problem.DatasetSplit.EVAL, "shards": 1}]

    @property
    def tokens_per_example(self):
        # A 32x32 image costs what about 64 tokens do (its 64 encoder
        # positions, and the full-resolution stem): 16 images a 1024 batch.
        return 64

    def generate_samples(self, data_dir, tmp_dir, split):
        del data_dir
        root = system_packages.debian_path(TUXPAINT_PACKAGE, TUXPAINT_STAMPS, tmp_dir)
        stamps = tuxpaint_stamps(root)
        if not stamps:
            raise DataError(f"{root} holds no stamp with a .txt caption and a .png image; "
                            f"reinstall {TUXPAINT_PACKAGE}. Received: stamps={root}")
        dev = split != problem.DatasetSplit.TRAIN
        chosen = [s for s in stamps if self.is_dev(s[0]) == dev]
        if not dev:
            chosen = [chosen[i] for i in np.random.RandomState(self.seed).permutation(len(chosen))]
        _log(f"{self.name} {split}: {len(chosen)} of {len(stamps)} stamps in {root}")
        for relpath, caption in chosen:
            yield {"image": image.read_image(os.path.join(root, relpath), self.image_size,
                                             crop=False),
                   "captions": [caption]}

    def is_dev(self, relpath):
        """Whether the stamp at `relpath` is held out: a fixed hash of its path."""
        return zlib.crc32(relpath.encode("utf-8")) % 100 < self.dev_percent


def tuxpaint_stamps(root):
    """Sorted `(png relpath, English caption)` of the stamps under `root`.

    A stamp is `name.txt` (first line: the English description; further
    `xx.utf8=` lines hold translations) beside `name.png`. Stamps with only
    an SVG image, and `.txt` files whose first line is empty, are skipped.
    """
    stamps, svg_only = [], 0
    for directory, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            if not name.endswith(".txt"):
                continue
            base = os.path.join(directory, name[:-4])
            if not os.path.isfile(base + ".png"):
                svg_only += os.path.isfile(base + ".svg")
                continue
            with open(base + ".txt", encoding="utf-8", errors="replace") as f:
                first = f.readline()
            caption = " ".join(first.split())
            if caption and ".utf8=" not in caption:
                stamps.append((os.path.relpath(base + ".png", root), caption))
    if svg_only:
        _log(f"tuxpaint: skipped {svg_only} SVG-only stamps (no SVG rasterizer)")
    return stamps


@registry.register_problem
class ImageCaptionShapes(image_text_problems.Image2TextProblem):
    """Generated scenes of 1-2 shapes with compositional captions (seeded)."""

    image_size = 32
    train_size = 20000
    dev_size = 500
    seeds = {problem.DatasetSplit.TRAIN: 1, problem.DatasetSplit.EVAL: 2,
             problem.DatasetSplit.TEST: 3}

    @property
    def approx_vocab_size(self):
        return 2**9

    @property
    def dataset_splits(self):
        return [{"split": problem.DatasetSplit.TRAIN, "shards": 2},
                {"split": problem.DatasetSplit.EVAL, "shards": 1}]

    @property
    def tokens_per_example(self):
        # A 32x32 image costs what about 64 tokens do (its 64 encoder
        # positions, and the full-resolution stem): 16 images a 1024 batch.
        return 64

    def generate_samples(self, data_dir, tmp_dir, split):
        del data_dir, tmp_dir
        size = self.train_size if split == problem.DatasetSplit.TRAIN else self.dev_size
        rng = np.random.RandomState(self.seeds[split])
        for _ in range(size):
            pixels, caption = random_scene(rng, self.image_size)
            yield {"image": pixels, "captions": [caption]}


SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (50, 90, 235),
           "yellow": (240, 220, 40), "white": (240, 240, 240), "orange": (250, 140, 20)}
SIZES = {"small": 0.25, "large": 0.45}  # diameter / canvas side
RELATIONS = ("to the left of", "above")


def shape_mask(shape, cx, cy, diameter, size):
    """Boolean `[size, size]` mask of `shape` centred at (`cx`, `cy`) pixels."""
    y, x = np.mgrid[0:size, 0:size] + 0.5
    r = diameter / 2
    if shape == "circle":
        return (x - cx) ** 2 + (y - cy) ** 2 <= r * r
    if shape == "square":
        side = 0.85 * r  # about the circle's area
        return (np.abs(x - cx) <= side) & (np.abs(y - cy) <= side)
    if shape == "triangle":  # apex up, base 2r wide
        top = cy - r
        return (y >= top) & (y <= cy + r) & (np.abs(x - cx) <= (y - top) / 2)
    raise ValueError(f"unknown shape. Received: shape={shape!r}")


def random_scene(rng, size):
    """`(uint8 [size, size, 3], caption)` of one scene drawn from `rng`.

    One shape (a third of the scenes) anywhere, or two in opposite halves,
    captioned "a <size> <colour> <shape>" or "... <relation> a <size>
    <colour> <shape>" with the first-named shape on the left or on top. On
    black, colours jittered by up to 12 per channel, positions jittered
    within their half.
    """
    pixels = np.zeros([size, size, 3], np.uint8)
    count = 1 if rng.randint(3) == 0 else 2
    relation = RELATIONS[rng.randint(len(RELATIONS))]
    phrases = []
    for i in range(count):
        shape = SHAPES[rng.randint(len(SHAPES))]
        colour = list(COLOURS)[rng.randint(len(COLOURS))]
        scale = list(SIZES)[rng.randint(len(SIZES))]
        diameter = SIZES[scale] * size
        r = diameter / 2
        # Along the relation's axis: inside its half; across it: anywhere.
        low, high = (0, size) if count == 1 else (i * size / 2, (i + 1) * size / 2)
        along = rng.uniform(low + r, high - r)
        across = rng.uniform(r, size - r)
        cx, cy = (along, across) if relation == RELATIONS[0] else (across, along)
        rgb = np.clip(np.array(COLOURS[colour]) + rng.randint(-12, 13, size=3), 0, 255)
        pixels[shape_mask(shape, cx, cy, diameter, size)] = rgb.astype(np.uint8)
        phrases.append(f"a {scale} {colour} {shape}")
    return pixels, f" {relation} ".join(phrases)
