"""data=images: every image is decoded once with Pillow before TensorFlow loads; a bad image is named (or skipped
and listed with data.skip_bad_files=true), a class folder the loader cannot read is refused, never dropped."""

import logging
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from PIL import Image

from {{ cookiecutter.package_name }}.runtime.datasets import DataError, prepare

PACKAGE = "{{ cookiecutter.package_name }}"


def cfg_for(path, **extra):
    base = {
        "_target_": f"{PACKAGE}.data.images.load",
        "path": str(path),
        "image_size": [8, 8],
        "color_mode": "rgb",
        "validation_split": 0.2,
    }
    return OmegaConf.create(base | extra)


def images(folder, label, count, suffix=".png", shade=0):
    (folder / label).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.new("RGB", (6, 5), (shade + i, 0, 0)).save(folder / label / f"{i}{suffix}")


def refused(cfg) -> str:
    with pytest.raises(DataError) as error:
        prepare(cfg, seed=0)
    assert "\n" not in str(error.value)
    return str(error.value)


def test_image_folders_are_refused_when_empty_or_single_class(tmp_path):
    assert "holds no images in class sub-folders" in refused(cfg_for(tmp_path))
    images(tmp_path, "cat", 2)
    assert "has a single class 'cat'" in refused(cfg_for(tmp_path))


def test_an_image_that_cannot_be_decoded_is_named_or_skipped_and_listed(tmp_path, caplog):
    images(tmp_path, "cat", 3)
    images(tmp_path, "dog", 3, shade=100)
    truncated = tmp_path / "dog" / "1.png"
    truncated.write_bytes(truncated.read_bytes()[:40])
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    message = refused(cfg_for(tmp_path))
    assert message.startswith(f"{truncated} cannot be decoded as an image") and "data.skip_bad_files=true" in message

    with caplog.at_level(logging.INFO):
        prepared = prepare(cfg_for(tmp_path, skip_bad_files=True), seed=0)
    assert prepared.n_train + prepared.n_validation + prepared.n_test == 5 and prepared.spec.class_names == (
        "cat",
        "dog",
    )
    assert f"skipped 1 image(s) that cannot be decoded: {truncated}" in caplog.text
    assert "files the loader does not read, left out: 1 .txt" in caplog.text
    assert "2 classes: 'cat' 3, 'dog' 2" in caplog.text
    read = sorted(
        (str(Path(file).relative_to(tmp_path)), int(label)) for file, label in zip(prepared.x, prepared.y, strict=True)
    )
    assert read == [("cat/0.png", 0), ("cat/1.png", 0), ("cat/2.png", 0), ("dog/0.png", 1), ("dog/2.png", 1)]


def test_a_class_folder_without_a_readable_image_is_refused_naming_its_file_types(tmp_path):
    images(tmp_path, "cat", 3)
    images(tmp_path, "dog", 2, suffix=".tif")
    message = refused(cfg_for(tmp_path, skip_bad_files=True))
    assert message.startswith(
        f"{tmp_path / 'dog'}: the class folder holds no image the loader can read (found: 2 .tif)"
    )
    (tmp_path / "dog" / "0.tif").unlink()
    (tmp_path / "dog" / "1.tif").unlink()
    (tmp_path / "dog" / "bad.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    assert "(found: 1 .jpg that cannot be decoded)" in refused(cfg_for(tmp_path, skip_bad_files=True))
    (tmp_path / "dog" / "bad.jpg").unlink()
    assert "(found: nothing)" in refused(cfg_for(tmp_path))


def test_the_files_are_split_three_ways_with_the_seed(tmp_path):
    images(tmp_path, "cat", 10)
    images(tmp_path, "dog", 10, shade=100)
    prepared = prepare(cfg_for(tmp_path), seed=0)  # validation_split 0.2, test_split 0.1 by default
    parts = [set(prepared.x[index]) for index in (prepared.train_index, prepared.validation_index, prepared.test_index)]
    assert [len(part) for part in parts] == [14, 4, 2] and len(set.union(*parts)) == 20
    again = prepare(cfg_for(tmp_path), seed=0)
    assert set(again.x[again.test_index]) == parts[2], "the same seed, the same test files"
