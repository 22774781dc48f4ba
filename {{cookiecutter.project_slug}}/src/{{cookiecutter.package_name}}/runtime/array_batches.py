"""The keras-torch stack's data path, without TensorFlow: batches gathered from NumPy arrays held in memory, in a
new seeded order every epoch, through `keras.utils.PyDataset`, which Keras feeds to any backend. It does the job
of pipelines.py's tf.data pipelines on the TensorFlow stacks (pipelines.py picks between the two), with the same
promises: every training row once per epoch, the order seeded and different from epoch to epoch, the validation
rows in order. Image folders are decoded once with Pillow, as Keras's own `load_img` does, into arrays that take
the same path.
"""

from __future__ import annotations

import numpy as np

from . import backend


def split_batches(x, y, train_index, validation_index, batch_size: int, seed: int) -> tuple:
    """(training, validation or None) batches of x and y's rows; the training ones reshuffle every epoch, seeded."""
    validation = None
    if len(validation_index):
        validation = batches(x, y, validation_index, batch_size, seed=None)
    return batches(x, y, train_index, batch_size, seed=seed), validation


def batches(x: np.ndarray, y: np.ndarray, rows: np.ndarray, batch_size: int, seed: int | None):
    """Batches of the given rows of x and y; when seeded, in a new seeded order every epoch, the same in every
    run (epoch e's order comes from the seed and e alone)."""
    keras = backend.keras()

    class ArrayBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()  # one worker, in this process: gathering rows from memory needs no more
            self.epoch, self.read = 0, 0
            self.order = self.ordered(0)

        def ordered(self, epoch: int) -> np.ndarray:
            if seed is None:
                return np.asarray(rows)
            return np.random.default_rng([seed, epoch]).permutation(np.asarray(rows))

        def __len__(self) -> int:
            return -(-len(rows) // batch_size)

        def __getitem__(self, index: int) -> tuple:
            self.read += 1
            return self.batch(index)

        def batch(self, index: int) -> tuple:
            """Batch `index` of this epoch's order (reading it this way does not count towards the epoch)."""
            if not 0 <= index < len(self):
                raise IndexError(f"batch {index} of {len(self)}")
            chosen = self.order[index * batch_size : (index + 1) * batch_size]
            return x[chosen], y[chosen]

        def on_epoch_begin(self):
            self.read = 0

        def on_epoch_end(self):
            # Keras also begins and ends an "epoch" around the one batch it reads to build the model before
            # fitting: only an epoch that read every batch moves on to the next epoch's order.
            if self.read >= len(self):
                self.epoch += 1
                self.order = self.ordered(self.epoch)
            self.read = 0

    return ArrayBatches()


def image_pipelines(
    files: np.ndarray,
    labels: np.ndarray,
    train_index: np.ndarray,
    validation_index: np.ndarray,
    input_shape: tuple,
    batch_size: int,
    seed: int,
) -> tuple:
    """(training, validation or None) batches of an image folder's files, split beforehand (data/images.py):
    every image decoded once into memory, then the array path above."""
    used = np.concatenate([train_index, validation_index]).astype(np.int64)
    pixels = np.zeros((len(files), *input_shape), np.float32)  # the test images are decoded by evaluate.py
    pixels[used] = load_images(files[used], input_shape)
    return split_batches(pixels, np.asarray(labels), train_index, validation_index, batch_size, seed)


def load_images(files, input_shape: tuple) -> np.ndarray:
    """Image files as one float32 array of pixels (0-255) of the model's input shape, decoded with Pillow as
    `keras.utils.load_img` decodes them: converted to the input's channels, resized (bilinear) to height x width."""
    keras = backend.keras()
    height, width, channels = input_shape
    color_mode = {1: "grayscale", 3: "rgb", 4: "rgba"}[channels]
    images = [
        keras.utils.img_to_array(
            keras.utils.load_img(
                str(file), color_mode=color_mode, target_size=(height, width), interpolation="bilinear"
            )
        )
        for file in files
    ]
    return np.stack(images).astype(np.float32) if images else np.zeros((0, *input_shape), np.float32)


def sample_batches(dataset, count: int = 3) -> list:
    """The first (x, y) batches as NumPy arrays, e.g. for a check that needs real inputs before fitting."""
    return [tuple(np.asarray(part) for part in dataset.batch(index)) for index in range(min(count, len(dataset)))]
