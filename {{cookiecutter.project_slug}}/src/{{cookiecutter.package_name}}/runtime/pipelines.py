"""The tf.data pipelines of prepared data (a data loader checks and prepares it without TensorFlow): seeded
reshuffling every epoch, batches gathered from tensors held in memory once, prefetch; and the pipelines of
an image folder, which the images loader asks for.

The keras-torch stack has no TensorFlow: there, each function below hands the job to array_batches.py
(keras.utils.PyDataset over NumPy arrays, images decoded with Pillow), which keeps the same promises. Callers
use this module alone, on every stack."""

from __future__ import annotations

import numpy as np

from . import array_batches, backend
from .datasets import Prepared

# Up to this many rows, an epoch's order comes from a shuffle buffer of row numbers: cheap to build (it
# took ~0.2 s of the seed preset's start-up less than the permutation pipeline, profiled 2026-11-28) and
# a few ms per epoch; above it, the per-epoch vectorised permutation (at least 3x cheaper per epoch at 1M rows).
SHUFFLE_BUFFER_UP_TO = 20_000


def pipelines(prepared: Prepared, batch_size: int, seed: int) -> tuple:
    """(training, validation or None) tf.data pipelines; the training one reshuffles every epoch, seeded."""
    if prepared.make_pipelines is not None:
        return prepared.make_pipelines(batch_size, seed)
    if backend.is_torch():
        return array_batches.split_batches(
            prepared.x, prepared.y, prepared.train_index, prepared.validation_index, batch_size, seed
        )
    import tensorflow as tf

    x = tf.constant(prepared.x)  # the cache: held in memory once, as tensors the batches are gathered from
    y = tf.constant(prepared.y)
    validation = None
    if len(prepared.validation_index):
        validation = batches(x, y, prepared.validation_index, batch_size, seed=None)
    return batches(x, y, prepared.train_index, batch_size, seed=seed), validation


def batches(x, y, rows: np.ndarray, batch_size: int, seed: int | None):
    """Batches of the given rows; when seeded, in a new seeded order every epoch, the same in every run.
    Only row numbers are shuffled and batched; the rows are gathered a batch at a time (shuffling and
    batching the examples themselves costs a third of the throughput on small models)."""
    import tensorflow as tf

    rows = tf.constant(rows, tf.int64)
    n = int(rows.shape[0])
    if seed is None:
        index_batches = tf.data.Dataset.from_tensor_slices(rows).batch(batch_size)
    elif n <= SHUFFLE_BUFFER_UP_TO:
        index_batches = (
            tf.data.Dataset.from_tensor_slices(rows)
            .shuffle(n, seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
        )
    else:
        index_batches = permuted_batches(tf, rows, batch_size, seed)
    return index_batches.map(
        lambda index: (tf.gather(x, index), tf.gather(y, index)), num_parallel_calls=tf.data.AUTOTUNE
    ).prefetch(tf.data.AUTOTUNE)


def permuted_batches(tf, rows, batch_size: int, seed: int):
    """Batches of row numbers from one vectorised permutation per epoch: on large data, 3x cheaper per epoch
    than a shuffle buffer of row numbers, but it costs more to trace (the seed preset's start-up)."""
    n = int(rows.shape[0])
    full = n // batch_size * batch_size

    def permuted(epoch_seed):
        # a linear-time shuffle: sorting random keys took 160 ms an epoch at 1M rows, this 20 ms
        order = tf.random.experimental.stateless_shuffle(rows, seed=tf.stack([epoch_seed, tf.constant(0, tf.int64)]))
        index_batches = tf.data.Dataset.from_tensor_slices(tf.reshape(order[:full], [-1, batch_size]))
        if full < n:
            index_batches = index_batches.concatenate(tf.data.Dataset.from_tensor_slices(order[full:][None]))
        return index_batches

    # one seed per epoch, from a seeded stream; flat_map hides the length from Keras (progress bar, "ran
    # out of data" warnings): state it
    epoch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
    n_batches = -(-n // batch_size)
    return epoch_seeds.flat_map(permuted).apply(tf.data.experimental.assert_cardinality(n_batches))


def image_pipelines(
    files: np.ndarray,
    labels: np.ndarray,
    train_index: np.ndarray,
    validation_index: np.ndarray,
    input_shape: tuple,
    batch_size: int,
    seed: int,
) -> tuple:
    """(training, validation or None) pipelines of an image folder's files, split beforehand (data/images.py):
    each image decoded once (cache), the training images reshuffled every epoch, seeded."""
    if backend.is_torch():
        return array_batches.image_pipelines(
            files, labels, train_index, validation_index, input_shape, batch_size, seed
        )
    import tensorflow as tf

    def part(index):
        paths = tf.data.Dataset.from_tensor_slices((files[index], labels[index]))
        decode = lambda path, label: (decode_image(tf, path, input_shape), label)  # noqa: E731
        return paths.map(decode, num_parallel_calls=tf.data.AUTOTUNE).cache()

    train = part(train_index).shuffle(len(train_index), seed=seed, reshuffle_each_iteration=True)
    train = train.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    validation = None
    if len(validation_index):
        validation = part(validation_index).batch(batch_size).prefetch(tf.data.AUTOTUNE)
    return train, validation


def decode_image(tf, path, input_shape: tuple):
    """One image file as float32 pixels (0-255) of the model's input shape, as
    keras.utils.image_dataset_from_directory decodes it: its channels, resized (bilinear) to height x width."""
    height, width, channels = input_shape
    image = tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)
    return tf.image.resize(image, (height, width))


def load_images(files, input_shape: tuple) -> np.ndarray:
    """Image files as one array of pixels, decoded as the training pipelines decode them."""
    if backend.is_torch():
        return array_batches.load_images(files, input_shape)
    import tensorflow as tf

    return np.stack([decode_image(tf, str(file), input_shape).numpy() for file in files]).astype(np.float32)


def sample_batches(dataset, count: int = 3) -> list:
    """A few (x, y) batches as NumPy arrays, e.g. for a check that needs real inputs before fitting."""
    if backend.is_torch():
        return array_batches.sample_batches(dataset, count)
    return [(np.asarray(x), np.asarray(y)) for x, y in dataset.take(count).as_numpy_iterator()]
