"""data=images: a folder with one sub-folder of images per class (DIR/cat/*.jpg, DIR/dog/*.jpg).

The folder is listed and every image decoded once now (runtime/image_folders.py), before TensorFlow loads;
the images are decoded again by TensorFlow's pipelines later, once it is imported (`make_pipelines`)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from ..runtime import image_folders, pipelines
from ..runtime.datasets import COLOR_CHANNELS, DataError, DataSpec, Prepared, check_validation_split


def load(
    path: str,
    image_size: list = (64, 64),
    color_mode: str = "rgb",
    task: str = "classification",
    validation_split: float = 0.2,
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
    check_validation_split(validation_split)
    found = image_folders.check(Path(path).expanduser(), bool(skip_bad_files))
    height, width = (int(side) for side in image_size)
    spec = DataSpec("images", (height, width, COLOR_CHANNELS[color_mode]), "classification", found.classes)
    n_validation = int(validation_split * found.n_files)  # image_dataset_from_directory's own arithmetic
    return Prepared(
        spec,
        make_pipelines=partial(
            pipelines.image_pipelines, found.path, spec.class_names, color_mode, spec.input_shape[:2], validation_split
        ),
        n_pipeline_train=found.n_files - n_validation,
        n_pipeline_validation=n_validation,
    )
