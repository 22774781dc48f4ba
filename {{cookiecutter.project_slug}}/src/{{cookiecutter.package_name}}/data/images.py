"""data=images: a folder with one sub-folder of images per class (DIR/cat/*.jpg, DIR/dog/*.jpg).

The folder is listed and every image decoded once now (runtime/image_folders.py), before the backend loads;
the list of files is split with the seed (training, validation, test), and the pipelines decode the files of
each part later (`make_pipelines`): TensorFlow's tf.data, or on the keras-torch stack Pillow, as Keras's
`load_img` does, into arrays (runtime/pipelines.py picks)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from ..runtime import image_folders, pipelines
from ..runtime.datasets import COLOR_CHANNELS, DataError, DataSpec, Prepared, split_rows


def load(
    path: str,
    image_size: list = (64, 64),
    color_mode: str = "rgb",
    task: str = "classification",
    validation_split: float = 0.2,
    test_split: float = 0.1,
    skip_bad_files: bool = False,
    *,
    seed: int,
) -> Prepared:
    if task != "classification":
        raise DataError(f"data.task={task}: data=images is classification, one class per sub-folder.")
    if not path:
        raise DataError("data=images needs data.path=DIR (one sub-folder of images per class).")
    if color_mode not in COLOR_CHANNELS:
        raise DataError(f"data.color_mode={color_mode} is unknown; choose one of {', '.join(COLOR_CHANNELS)}.")
    found = image_folders.check(Path(path).expanduser(), bool(skip_bad_files))
    height, width = (int(side) for side in image_size)
    spec = DataSpec("images", (height, width, COLOR_CHANNELS[color_mode]), "classification", found.classes)
    files = np.array([file for file, _ in found.files])
    labels = np.array([label for _, label in found.files], dtype=np.int32)
    train_index, validation_index, test_index = split_rows(len(files), validation_split, test_split, seed)
    return Prepared(
        spec,
        x=files,
        y=labels,
        train_index=train_index,
        validation_index=validation_index,
        test_index=test_index,
        make_pipelines=partial(
            pipelines.image_pipelines, files, labels, train_index, validation_index, spec.input_shape
        ),
    )
