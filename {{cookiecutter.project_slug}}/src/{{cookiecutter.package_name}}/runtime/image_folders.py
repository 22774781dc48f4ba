"""data=images: the class folders listed, and every image decoded once with Pillow, before TensorFlow loads.

An image that cannot be decoded is named before fitting (or, with `data.skip_bad_files=true`, skipped and
listed); a class folder without one image the loader reads is refused, naming the file types it holds: no
class is ever dropped without a word. The images read are listed with their class, so that the seeded split
is one of the file list (datasets.split_rows) and the pipelines are built from the files' paths.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .datasets import DataError

log = logging.getLogger(__name__)

# What TensorFlow's decode_image reads (and keras.utils.image_dataset_from_directory).
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


@dataclass(frozen=True)
class Folder:
    """The classes found (sorted), their image counts, and every image read: (path, class number) pairs,
    sorted by class and path, without the skipped files."""

    path: Path
    counts: dict
    skipped: tuple = ()
    files: tuple = ()

    @property
    def classes(self) -> tuple:
        return tuple(self.counts)

    @property
    def n_files(self) -> int:
        return sum(self.counts.values())


def undecodable(file: Path) -> str | None:
    """Why Pillow cannot decode the image, or None when it can."""
    from PIL import Image

    try:
        with Image.open(file) as image:
            image.draft(image.mode, (1, 1))  # a JPEG decodes at 1/8 scale: every byte read, 8x faster
            image.load()
    except Exception as error:  # Pillow raises many kinds (UnidentifiedImageError, OSError, SyntaxError, ...)
        return str(error) or type(error).__name__
    return None


def check(folder: Path, skip_bad_files: bool = False) -> Folder:
    """One sub-folder per class, each with at least one image the loader reads; the bad images named."""
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder (data.path).")
    subfolders = sorted(sub for sub in folder.iterdir() if sub.is_dir())
    if not subfolders:
        raise DataError(f"{folder} holds no images in class sub-folders (one sub-folder of images per class).")
    counts, bad, ignored, read = {}, [], Counter(), []
    for sub in subfolders:
        files = sorted(file for file in sub.rglob("*") if file.is_file())
        images = [file for file in files if file.suffix.lower() in IMAGE_SUFFIXES]
        # hidden files (.DS_Store, ._name) are no one's images: not worth a word
        unread = [file for file in files if file not in images and not file.name.startswith(".")]
        others = Counter(file.suffix.lower() or "(no suffix)" for file in unread)
        broken = [(file, reason) for file in images if (reason := undecodable(file))]
        if len(broken) == len(images):
            found = [f"{n} {suffix}" for suffix, n in sorted(others.items())]
            found += [f"{n} {suffix} that cannot be decoded" for suffix, n in sorted(suffixes(broken).items())]
            raise DataError(
                f"{sub}: the class folder holds no image the loader can read (found: {', '.join(found) or 'nothing'});"
                f" it reads {', '.join(IMAGE_SUFFIXES)}: convert the images or move the folder out of data.path."
            )
        counts[sub.name] = len(images) - len(broken)
        left_out = {file for file, _ in broken}
        read += [(str(file), len(counts) - 1) for file in images if file not in left_out]
        bad += broken
        ignored += others
    if len(counts) < 2:
        raise DataError(
            f"{folder} has a single class {next(iter(counts))!r}; classification needs two class sub-folders."
        )
    if bad and not skip_bad_files:
        file, reason = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise DataError(
            f"{file} cannot be decoded as an image: {reason}{more}; fix or remove it, or skip such files with "
            "data.skip_bad_files=true."
        )
    if ignored:
        log.warning(
            "data: %s: files the loader does not read, left out: %s",
            folder,
            ", ".join(f"{n} {suffix}" for suffix, n in sorted(ignored.items())),
        )
    if bad:
        log.warning("data: skipped %d image(s) that cannot be decoded: %s", len(bad), ", ".join(str(f) for f, _ in bad))
    log.info(
        "data: task classification, %d classes: %s", len(counts), ", ".join(f"{n!r} {c}" for n, c in counts.items())
    )
    return Folder(folder, counts, tuple(str(file) for file, _ in bad), tuple(read))


def suffixes(broken: list) -> Counter:
    return Counter(file.suffix.lower() for file, _ in broken)
