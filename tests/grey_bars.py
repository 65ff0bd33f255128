"""A tiny grey image problem for export tests: 8x8 bars, horizontal or vertical.

Test modules register a subclass under a name of their own (several modules
may run in one process, and registering sets the class's name):
`registry.register_problem("grey_bars_x")(type("GreyBarsX", (GreyBars,), {}))`.
"""

import numpy as np

from t2t_multimodel import image_problems, problem


def bars(orientation, position):
    """An 8x8x1 uint8 image: a white row (orientation 0) or column (1) at `position`."""
    image = np.zeros([8, 8, 1], np.uint8)
    if orientation:
        image[:, position] = 255
    else:
        image[position, :] = 255
    return image


class GreyBars(image_problems.ImageProblem):
    """8x8 grey bars: horizontal (0) or vertical (1)."""

    num_classes = 2
    num_channels = 1
    class_labels = ["horizontal", "vertical"]
    tokens_per_example = 16
    dataset_splits = [{"split": problem.DatasetSplit.TRAIN, "shards": 1},
                      {"split": problem.DatasetSplit.EVAL, "shards": 1}]

    def generate_samples(self, data_dir, tmp_dir, split):
        for orientation in (0, 1):
            for position in range(8):
                yield {"image": bars(orientation, position), "label": orientation}
