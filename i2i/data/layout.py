"""Dataset layouts on disk: which layout a folder holds, and the files of each split.

Layouts (see README "Datasets"); each may sit directly in ROOT or in split sub-folders
`ROOT/train/`, `ROOT/test/`, `ROOT/val/`:

- `paired-combined`: image files holding A|B side by side (the pix2pix reference format);
- `paired-split`: `A/` + `B/` (or `input/` + `target/`), files matched by stem
  (`A/0001.jpg` goes with `B/0001.png`);
- `unpaired`: `trainA/ trainB/ [testA/ testB/]` (the CycleGAN reference format);
- `sr-hr`: a folder of HR images (directly, or in `hr/`); LR is made on the fly;
- `sr-pairs`: `hr/` + `lr/`, matched by stem, every HR exactly `scale` times its LR.

The pipelines (`i2i.data.paired`, `unpaired`, `sr`) list their files here and call
`require_sizes` (headers only) before building; `i2i.data.check` reads every file to
check a whole dataset.

Example:

```python
layout = detect_layout("data/facades")                 # "paired-combined"
layout, files = paired_files("data/facades", "train")
a_files, b_files = unpaired_files("data/horse2zebra", "test")
```
"""

from __future__ import annotations

import os
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from i2i import imageio
from i2i.common import I2IError

SPLITS = ("train", "test", "val")
UNPAIRED_SPLITS = ("train", "test")
PAIRED_FOLDERS = (("A", "B"), ("input", "target"))
LAYOUTS = ("paired-combined", "paired-split", "unpaired", "sr-hr", "sr-pairs")
FAMILIES = {
    "paired": ("paired-combined", "paired-split"),
    "unpaired": ("unpaired",),
    "sr": ("sr-hr", "sr-pairs"),
}
# Folders with more images than this get a progress bar.
_SHOWN = 5


class DatasetError(I2IError):
    """A dataset cannot be used as asked; `str(error)` is one line naming the problem."""


def split_names(root, layout: str) -> list[str]:
    """The splits present in `root` for `layout` ("" alone when it has no split folders)."""
    root = Path(root)
    if layout == "unpaired":
        return [
            s for s in UNPAIRED_SPLITS if (root / f"{s}A").is_dir() or (root / f"{s}B").is_dir()
        ]
    return [s for s in SPLITS if (root / s).is_dir()] or [""]


def split_folder(root, split: str) -> Path:
    """`root/split` when ROOT has split folders, else ROOT itself (a single split).

    Raises:
        DatasetError: ROOT has split folders but not `split`.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder")
    if split and (root / split).is_dir():
        return root / split
    present = [s for s in SPLITS if (root / s).is_dir()]
    if present:
        raise DatasetError(f"{root}: no {split}/ folder (it has {', '.join(present)})")
    return root


def detect_layout(root) -> str:
    """Which of `LAYOUTS` the folder `root` holds.

    A flat folder of images is `paired-combined` when every image (of a sample) is
    exactly twice as wide as high, else `sr-hr`; pass `layout=` to the functions that take
    one when that guess is wrong.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder")
    if split_names(root, "unpaired"):
        return "unpaired"
    splits = split_names(root, "")
    folder = root / splits[0]
    for a, b in PAIRED_FOLDERS:
        if (folder / a).is_dir() or (folder / b).is_dir():
            return "paired-split"
    if (folder / "lr").is_dir():
        return "sr-pairs"
    if (folder / "hr").is_dir():
        return "sr-hr"
    images = imageio.list_images(folder)
    if not images:
        raise DatasetError(
            f"{folder}: no images and no dataset folders (A/ B/, trainA/ trainB/, hr/ lr/, "
            "train/ test/)"
        )
    sizes = []
    for path in images[:: max(1, len(images) // 16)][:16]:
        try:
            sizes.append(imageio.image_size(path))
        except imageio.ImageReadError:
            continue
    if sizes and all(w == 2 * h for w, h in sizes):
        return "paired-combined"
    return "sr-hr"


def resolve_layout(root, layout: str | None = None) -> str:
    """`layout` checked against `root`: None detects it; a family ("paired", "unpaired",
    "sr") picks its member that `root` holds; a layout name is returned as is."""
    if layout in LAYOUTS:
        return layout
    if layout is not None and layout not in FAMILIES:
        known = ", ".join([*FAMILIES, *LAYOUTS])
        raise DatasetError(f"unknown dataset layout {layout!r} (use one of {known})")
    found = detect_layout(root)
    if layout is None or found in FAMILIES[layout]:
        return found
    # A flat folder of images is combined pairs when the caller says paired, HR when sr.
    if layout == "paired" and found == "sr-hr" and not _has_sr_folders(root):
        return "paired-combined"
    if layout == "sr" and found == "paired-combined":
        return "sr-hr"
    raise DatasetError(f"{root}: this is a {found} dataset, not {layout}")


def _has_sr_folders(root) -> bool:
    folder = Path(root) / split_names(root, "")[0]
    return (folder / "hr").is_dir() or (folder / "lr").is_dir()


def role_folders(root, layout: str, split: str) -> dict[str, Path]:
    """The folder of each file role of one split: e.g. `{"A": .../train/A, "B": ...}`."""
    root = Path(root)
    if layout == "unpaired":
        return {"a": root / f"{split}A", "b": root / f"{split}B"}
    folder = root / split if split else root
    if layout == "paired-combined":
        return {"combined": folder}
    if layout == "paired-split":
        for a, b in PAIRED_FOLDERS:
            if (folder / a).is_dir() or (folder / b).is_dir():
                return {"A": folder / a, "B": folder / b}
        return {"A": folder / "A", "B": folder / "B"}
    if layout == "sr-pairs":
        return {"hr": folder / "hr", "lr": folder / "lr"}
    if layout == "sr-hr":
        return {"hr": folder / "hr" if (folder / "hr").is_dir() else folder}
    raise DatasetError(f"unknown dataset layout {layout!r}")


def match_by_stem(left, right):
    """Match two file lists by stem.

    Returns:
        `(pairs, unmatched, ambiguous)`: sorted `(left, right)` pairs; files whose stem is
        missing on the other side; files sharing a stem with another file on their side.
    """
    by_stem = [defaultdict(list), defaultdict(list)]
    for side, files in zip(by_stem, (left, right), strict=True):
        for path in files:
            side[Path(path).stem].append(Path(path))
    pairs, unmatched, ambiguous = [], [], []
    for stem in sorted(set(by_stem[0]) | set(by_stem[1])):
        a, b = by_stem[0].get(stem, []), by_stem[1].get(stem, [])
        if len(a) > 1 or len(b) > 1:
            ambiguous.extend((a if len(a) > 1 else []) + (b if len(b) > 1 else []))
        elif a and b:
            pairs.append((a[0], b[0]))
        else:
            unmatched.extend(a or b)
    return pairs, unmatched, ambiguous


def listed(folder: Path) -> list[Path]:
    return imageio.list_images(folder) if folder.is_dir() else []


def paired_files(root, split: str = "train", layout: str | None = None):
    """The files of one split of a paired dataset, for the pipeline.

    Returns:
        `(layout, items)`: "paired-combined" and a list of files, or "paired-split" and a
        list of `(a_file, b_file)` pairs.

    Raises:
        DatasetError: not a paired dataset, no images, or unmatched / ambiguous files.
    """
    folder = split_folder(root, split)
    layout = resolve_layout(folder, layout or "paired")
    roles = role_folders(folder, layout, "")
    if layout == "paired-combined":
        items = listed(roles["combined"])
    elif layout == "paired-split":
        items, unmatched, ambiguous = match_by_stem(listed(roles["A"]), listed(roles["B"]))
        if unmatched:
            names = name_list(unmatched, folder)
            raise DatasetError(
                f"{folder}: {len(unmatched)} file(s) without a partner of the same name in "
                f"{roles['A'].name}/ and {roles['B'].name}/: {names}"
            )
        if ambiguous:
            names = name_list(ambiguous, folder)
            raise DatasetError(f"{folder}: several files share a name (stem): {names}")
    else:
        raise DatasetError(f"{root}: this is a {layout} dataset, not a paired one")
    if not items:
        raise DatasetError(f"{folder}: no images")
    return layout, items


def unpaired_files(root, split: str = "train"):
    """`(a_files, b_files)` of one split of an unpaired dataset (`trainA/`, `trainB/`)."""
    root = Path(root)
    folders = role_folders(root, "unpaired", split)
    out = []
    for folder in folders.values():
        if not folder.is_dir():
            raise DatasetError(
                f"{folder}: missing (an unpaired dataset has {split}A/ and {split}B/)"
            )
        files = imageio.list_images(folder)
        if not files:
            raise DatasetError(f"{folder}: no images")
        out.append(files)
    return out[0], out[1]


def sr_files(root, split: str = "train"):
    """`(hr_files, lr_files_or_None)` of one split of a super-resolution dataset.

    `lr_files` is None for an HR-only folder, else matched to `hr_files` one to one.
    """
    folder = split_folder(root, split)
    layout = resolve_layout(folder, "sr")
    roles = role_folders(folder, layout, "")
    if layout == "sr-hr":
        files = listed(roles["hr"])
        if not files:
            raise DatasetError(f"{roles['hr']}: no images")
        return files, None
    pairs, unmatched, ambiguous = match_by_stem(listed(roles["hr"]), listed(roles["lr"]))
    if unmatched or ambiguous:
        names = name_list(unmatched + ambiguous, folder)
        raise DatasetError(f"{folder}: hr/ and lr/ files do not match one to one: {names}")
    if not pairs:
        raise DatasetError(f"{folder}: no images")
    return [p[0] for p in pairs], [p[1] for p in pairs]


def name_list(paths, root, shown: int = _SHOWN) -> str:
    names = [relative(p, root) for p in paths[:shown]]
    more = f" and {len(paths) - shown} more" if len(paths) > shown else ""
    return ", ".join(names) + more


def relative(path, root) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


# --- sizes -----------------------------------------------------------------------------


def require_sizes(items, crop: int | None, root, combined: bool = False, same_size: bool = False):
    """Fail early, naming the files, when images cannot give a `crop` x `crop` patch.

    Reads only the headers (fast). The pipelines call this before building.

    Args:
        items: files, or tuples of files that are cropped together.
        crop: the crop size (None: only headers are checked).
        root: shown paths are relative to it.
        combined: files hold A|B side by side (each half is checked).
        same_size: the files of a tuple must have equal sizes (cropped without resize).

    Raises:
        DatasetError: an unreadable header, a too-small image, or different sizes.
    """
    groups = [item if isinstance(item, tuple | list) else (item,) for item in items]
    flat = [path for group in groups for path in group]
    with ThreadPoolExecutor(workers()) as pool:
        results = list(pool.map(_try_probe, flat))
    errors = [r for r in results if isinstance(r, imageio.ImageReadError)]
    if errors:
        raise DatasetError(f"{errors[0]} ({len(errors)} unreadable file(s) in {root})")
    sizes = dict(zip(flat, results, strict=True))
    if combined:
        sizes = {p: (w // 2, h) for p, (w, h) in sizes.items()}
    if same_size:
        different = [g for g in groups if len({sizes[p] for p in g}) > 1]
        if different:
            shown = "; ".join(
                " vs ".join(f"{relative(p, root)} ({size_text(sizes[p])})" for p in g)
                for g in different[:3]
            )
            raise DatasetError(
                f"{root}: {len(different)} pair(s) of different sizes cannot be cropped together "
                f"without a resize: {shown}"
            )
    if crop:
        small = [p for p in flat if min(sizes[p]) < crop]
        if small:
            shown = ", ".join(
                f"{relative(p, root)} ({size_text(sizes[p])})" for p in small[:_SHOWN]
            )
            more = f" and {len(small) - _SHOWN} more" if len(small) > _SHOWN else ""
            raise DatasetError(
                f"{root}: {len(small)} image(s) smaller than the {crop}x{crop} crop: {shown}{more} "
                "(use a smaller image size, or remove them)"
            )


def _try_probe(path):
    try:
        return imageio.image_size(path)
    except imageio.ImageReadError as error:
        return error


def size_text(size) -> str:
    return f"{size[0]}x{size[1]}"


def workers() -> int:
    return min(8, os.cpu_count() or 1)
