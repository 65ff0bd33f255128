"""Installs t2t_multimodel with its problems and hparams sets and the binaries."""

import pathlib

from setuptools import setup

HERE = pathlib.Path(__file__).parent
REQUIREMENTS = [
    line.strip() for line in (HERE / "requirements.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]

PACKAGES = [
    "t2t_multimodel",
    "t2t_multimodel.data",
    "t2t_multimodel.layers",
    "t2t_multimodel.modalities",
    "t2t_multimodel.models",
    "t2t_multimodel.training",
    "t2t_multimodel.decoding",
    "t2t_multimodel.export",
    "t2t_multimodel.experiments",
    "t2t_multimodel.metrics",
    "t2t_multimodel.problems",
    "t2t_multimodel.hparams",
    "t2t_multimodel.bin",
]

setup(
    name="t2t-multimodel",
    version="0.1.0",
    description="Tensor2Tensor-style model zoo on TensorFlow 2 / Keras 3, "
    "with the MultiModel of 'One Model To Learn Them All'.",
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11,<3.12",
    packages=PACKAGES,
    package_dir={
        "t2t_multimodel": "t2t_multimodel",
        "t2t_multimodel.problems": "problems",
        "t2t_multimodel.hparams": "hparams",
        "t2t_multimodel.bin": "bin",
    },
    install_requires=REQUIREMENTS,
    entry_points={
        "console_scripts": [
            "t2t-datagen=t2t_multimodel.bin.t2t_datagen:run",
            "t2t-trainer=t2t_multimodel.bin.t2t_trainer:run",
            "t2t-decoder=t2t_multimodel.bin.t2t_decoder:run",
            "t2t-exporter=t2t_multimodel.bin.t2t_exporter:run",
            "t2t-experiments=t2t_multimodel.bin.t2t_experiments:run",
        ]
    },
)
