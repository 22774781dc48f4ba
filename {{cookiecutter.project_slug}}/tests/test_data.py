"""The data group: entries are `_target_` loaders; CSV, .npz and image folders are checked before TensorFlow
loads; the pipelines are seeded."""

import numpy as np
import pytest
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }}.runtime import backend
from {{ cookiecutter.package_name }}.runtime import pipelines as pipelines_module
from {{ cookiecutter.package_name }}.runtime.datasets import DataError, prepare, split_indices, split_rows
from {{ cookiecutter.package_name }}.runtime.pipelines import pipelines, sample_batches

from markers import tensorflow_only

PACKAGE = "{{ cookiecutter.package_name }}"


def csv_cfg(path, target="y", **extra):
    return OmegaConf.create(
        {"_target_": f"{PACKAGE}.data.csv.load", "path": str(path), "target": target, "features": None}
        | {"task": "auto", "validation_split": 0.25}
        | extra
    )


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def table(rows=8, label=lambda i: f"{i * 0.37:.2f}"):
    return "a,b,y\n" + "".join(f"{i},{i * 2},{label(i)}\n" for i in range(rows))


@pytest.mark.parametrize(
    ("text", "target", "message"),
    [
        (None, "y", r"no such file \(data.path\)"),
        ("", "y", "is empty"),
        ("a,b,y\n", "y", "has a header but no data rows"),
        (table(), "price", "has no column 'price' \\(data.target\\); its columns are: a, b, y"),
        ("a,b,y\n1,x,3\n2,4,5\n", "y", "column 'b' has a non-numeric value 'x' on line 2"),
        ("a,b,y\n1,2,cat\n2,4,cat\n", "y", "column 'y' has a single class 'cat'"),
    ],
)
def test_bad_csv_files_are_refused_naming_the_file_and_the_column(tmp_path, text, target, message):
    path = tmp_path / "table.csv"
    if text is not None:
        write(path, text)
    with pytest.raises(DataError, match=message) as refused:
        prepare(csv_cfg(path, target), seed=0)
    assert str(path) in str(refused.value) and "\n" not in str(refused.value)


def test_csv_task_follows_the_target(tmp_path):
    regression = prepare(csv_cfg(write(tmp_path / "r.csv", table())), seed=0)
    assert regression.spec.task == "regression" and regression.spec.input_shape == (2,)
    assert regression.y.shape == (8, 1) and regression.spec.n_outputs == 1

    labels = prepare(csv_cfg(write(tmp_path / "c.csv", table(label=lambda i: ["cat", "dog"][i % 2]))), seed=0)
    assert labels.spec.task == "classification" and labels.spec.class_names == ("cat", "dog")
    assert labels.y.tolist() == [0, 1] * 4 and labels.spec.n_outputs == 2

    integers = prepare(csv_cfg(write(tmp_path / "i.csv", table(label=lambda i: str(i % 3)))), seed=0)
    assert integers.spec.task == "classification" and integers.spec.class_names == ("0", "1", "2")

    forced = prepare(csv_cfg(tmp_path / "i.csv", task="regression"), seed=0)
    assert forced.spec.task == "regression"


def test_csv_features_can_be_chosen(tmp_path):
    path = write(tmp_path / "t.csv", "a,name,b,y\n" + "".join(f"{i},n{i},{i},{i}.5\n" for i in range(6)))
    with pytest.raises(DataError, match="column 'name' has a non-numeric value 'n0'"):
        prepare(csv_cfg(path), seed=0)
    prepared = prepare(csv_cfg(path, features=["b"]), seed=0)
    assert prepared.x[:, 0].tolist() == [float(i) for i in range(6)]


def test_the_validation_split_is_seeded_and_disjoint():
    train, validation = split_indices(100, 0.2, seed=3)
    assert len(validation) == 20 and not set(train) & set(validation) and len(train) + len(validation) == 100
    assert split_indices(100, 0.2, seed=3)[1].tolist() == validation.tolist()
    assert split_indices(100, 0.2, seed=4)[1].tolist() != validation.tolist()
    assert split_indices(100, 0.0, seed=3)[1].size == 0


def test_the_test_split_is_seeded_disjoint_and_leaves_the_validation_rows_as_they_were():
    train, validation, test = split_rows(100, 0.2, 0.1, seed=3)
    assert (len(train), len(validation), len(test)) == (70, 20, 10)
    assert not set(train) & set(test) and not set(validation) & set(test)
    assert sorted([*train, *validation, *test]) == list(range(100))
    assert [part.tolist() for part in split_rows(100, 0.2, 0.1, seed=3)] == [
        train.tolist(),
        validation.tolist(),
        test.tolist(),
    ]
    assert split_rows(100, 0.2, 0.1, seed=4)[2].tolist() != test.tolist()
    # test_split=0 is the two-way split, row for row (experiment=seed stays the seed's script)
    assert [part.tolist() for part in split_rows(100, 0.2, 0.0, seed=3)[:2]] == [
        part.tolist() for part in split_indices(100, 0.2, seed=3)
    ]
    assert validation.tolist() == split_indices(100, 0.2, seed=3)[1].tolist()
    with pytest.raises(DataError, match="data.test_split=1.5 must be at least 0 and below 1"):
        split_rows(100, 0.2, 1.5, seed=3)
    with pytest.raises(DataError, match="leave no training rows out of 10"):
        split_rows(10, 0.5, 0.5, seed=3)


def test_the_defaults_hold_out_test_rows_for_files_and_none_for_the_seeds_data(compose_config, tmp_path):
    path = write(tmp_path / "t.csv", table(rows=40))
    assert prepare(compose_config("data=csv", f"data.path={path}", "data.target=y").data, seed=0).n_test == 4
    assert prepare(compose_config().data, seed=0).n_test == 0
    seed = compose_config("experiment=seed")
    assert seed.data.test_split == 0 and prepare(seed.data, seed=seed.seed).n_train == 1000


def npz_cfg(path, **extra):
    return OmegaConf.create({"_target_": f"{PACKAGE}.data.npz.load", "path": str(path), "task": "auto"} | extra)


def test_npz_arrays_x_and_y_are_read_with_the_task_found_as_for_csv(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "rows.npz", x=rng.normal(size=(20, 3)), y=rng.normal(size=20))
    rows = prepare(npz_cfg(tmp_path / "rows.npz"), seed=0)
    assert rows.spec.task == "regression" and rows.spec.input_shape == (3,) and rows.x.dtype == np.float32
    assert (rows.n_train, rows.n_validation, rows.n_test) == (14, 4, 2) and rows.spec.kind == "npz"

    np.savez(tmp_path / "pictures.npz", x=rng.random((20, 8, 8, 1)), y=np.arange(20) % 2)
    pictures = prepare(npz_cfg(tmp_path / "pictures.npz"), seed=0)
    assert pictures.spec.task == "classification" and pictures.spec.class_names == ("0", "1")
    assert pictures.spec.input_shape == (8, 8, 1) and pictures.spec.is_images

    np.savez(tmp_path / "no_y.npz", x=rng.random((4, 2)))
    with pytest.raises(DataError, match="has no array 'y'; it holds x"):
        prepare(npz_cfg(tmp_path / "no_y.npz"), seed=0)
    np.save(tmp_path / "one.npy", rng.random((4, 2)))
    with pytest.raises(DataError, match="holds a single array"):
        prepare(npz_cfg(tmp_path / "one.npy"), seed=0)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_such_loaders.load", "_target_ no_such_loaders.load cannot be imported: no module 'no_such_loaders'"),
        ("os.sep", "_target_ os.sep is a str, not a callable"),
        ("builtins.dict", "_target_ builtins.dict returned a dict, not the Prepared data"),
    ],
)
def test_loaders_that_cannot_give_prepared_data_are_refused(target, message):
    with pytest.raises(DataError, match=message) as refused:
        prepare(OmegaConf.create({"_target_": target}), seed=0)
    assert "\n" not in str(refused.value)


def epoch_orders(keras, train, count: int) -> list:
    """The first feature of every training example, epoch by epoch, in the order fit reads them."""
    if not backend.is_torch():  # a tf.data pipeline: each iteration is an epoch
        return [np.concatenate([x[:, 0] for x, _ in train.as_numpy_iterator()]) for _ in range(count)]
    # keras.utils.PyDataset: what a real fit reads, epoch by epoch (Keras also reads one batch before the first
    # epoch, to build the model: that must not move the order on)
    epochs, read = [[]], train.batch

    def recorded(index):
        x, y = read(index)
        epochs[-1].append(x[:, 0])
        return x, y

    class NewEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            epochs.append([])

    train.batch = recorded
    model = keras.Sequential([keras.Input(shape=(train.batch(0)[0].shape[1],)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(train, epochs=count, verbose=0, shuffle=False, callbacks=[NewEpoch()])
    return [np.concatenate(epoch) for epoch in epochs[1:]]


def example_count(dataset) -> int:
    if backend.is_torch():
        return sum(len(dataset.batch(index)[0]) for index in range(len(dataset)))
    return sum(len(x) for x, _ in dataset.as_numpy_iterator())


@pytest.mark.parametrize(
    "shuffle_buffer_up_to",
    [10_000, pytest.param(0, marks=tensorflow_only)],  # (tf.data only: how an epoch's order is drawn)
    ids=["shuffle-buffer", "permutation"],
)
def test_the_pipelines_reshuffle_each_epoch_seeded_and_cover_every_row(
    tf, keras, compose_config, monkeypatch, shuffle_buffer_up_to
):
    monkeypatch.setattr(pipelines_module, "SHUFFLE_BUFFER_UP_TO", shuffle_buffer_up_to)
    cfg = compose_config("data.n_samples=40", "trainer.batch_size=8")
    first_run = prepare(cfg.data, seed=cfg.seed)

    def epochs(prepared, count=2):
        train, validation = pipelines(prepared, cfg.trainer.batch_size, seed=cfg.seed)
        return epoch_orders(keras, train, count), validation

    (one, two), validation = epochs(first_run)
    assert sorted(one.tolist()) == sorted(first_run.x[first_run.train_index, 0].tolist())  # every row, once
    assert sorted(two.tolist()) == sorted(one.tolist())
    assert one.tolist() != two.tolist(), "the order must change from epoch to epoch"
    assert example_count(validation) == 8
    (again, _), _ = epochs(prepare(cfg.data, seed=cfg.seed))
    assert again.tolist() == one.tolist(), "the same seed must give the same order"


def test_sample_batches_are_training_batches_as_numpy_arrays(tf, compose_config):
    cfg = compose_config("data.n_samples=40", "trainer.batch_size=8")
    prepared = prepare(cfg.data, seed=cfg.seed)
    train, _ = pipelines(prepared, cfg.trainer.batch_size, seed=cfg.seed)
    batches = sample_batches(train, 3)
    assert [(type(x), x.shape, type(y), y.shape) for x, y in batches] == [(np.ndarray, (8, 10), np.ndarray, (8, 1))] * 3
    training_rows = {tuple(row) for row in prepared.x[prepared.train_index].tolist()}
    assert all(tuple(row) in training_rows for x, _ in batches for row in x.tolist())
    if backend.is_torch():  # the first batches of the first epoch, and reading them does not move the order on
        assert all((x == train[index][0]).all() for index, (x, _) in enumerate(batches))
