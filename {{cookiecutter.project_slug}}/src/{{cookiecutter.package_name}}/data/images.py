"""data=images: a folder with one sub-folder of images per class (DIR/cat/*.jpg, DIR/dog/*.jpg).

The folder is listed and checked now; the images are decoded by TensorFlow's pipelines later, once it is
imported (`make_pipelines`)."""

from __future__ import annotations

from functools import partial

from ..runtime import pipelines
from ..runtime.datasets import DataError, Prepared, check_validation_split, list_image_folder


def load(
    path: str,
    image_size: list = (64, 64),
    color_mode: str = "rgb",
    task: str = "classification",
    validation_split: float = 0.2,
    *,
    seed: int,
) -> Prepared:
    if task != "classification":
        raise DataError(f"data.task={task}: data=images is classification, one class per sub-folder.")
    check_validation_split(validation_split)
    folder, spec, n_files = list_image_folder(path, image_size, color_mode)
    n_validation = int(validation_split * n_files)  # image_dataset_from_directory's own arithmetic
    return Prepared(
        spec,
        make_pipelines=partial(
            pipelines.image_pipelines, folder, spec.class_names, color_mode, spec.input_shape[:2], validation_split
        ),
        n_pipeline_train=n_files - n_validation,
        n_pipeline_validation=n_validation,
    )
