"""Dataset layouts on disk: finding the files of each layout, and checking a dataset.

Layouts (see README "Datasets"); each may sit directly in ROOT or in split sub-folders
`ROOT/train/`, `ROOT/test/`, `ROOT/val/`:

- `paired-combined`: image files holding A|B side by side (the pix2pix reference format);
- `paired-split`: `A/` + `B/` (or `input/` + `target/`), files matched by stem
  (`A/0001.jpg` goes with `B/0001.png`);
- `unpaired`: `trainA/ trainB/ [testA/ testB/]` (the CycleGAN reference format);
- `sr-hr`: a folder of HR images (directly, or in `hr/`); LR is made on the fly;
- `sr-pairs`: `hr/` + `lr/`, matched by stem, every HR exactly `scale` times its LR.

`check_dataset` reads every file once (in threads, with a progress bar) and returns a
`DatasetReport`: counts, image sizes, and problems. Errors (training would fail or be
wrong): unreadable files, unmatched or ambiguous pairs, images smaller than the crop,
HR/LR scale mismatches, the same image in two splits (test data leaking into training),
empty folders. Warnings: exact duplicates within a split, A/B size mismatches, odd
combined widths, images outside the split folders.

Example:

```python
report = check_dataset("data/facades", layout="paired", crop=256)
print(report.format())
report.raise_for_errors()  # DatasetError with one line naming the first problem
```
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from i2i import imageio

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
FEW = 8
_SHOWN = 5


class DatasetError(Exception):
    """A dataset cannot be used as asked; `str(error)` is one line naming the problem."""


@dataclass(frozen=True)
class Problem:
    """One finding of a check: a `kind`, a one-line `message`, the files involved."""

    kind: str
    message: str
    paths: tuple[str, ...] = ()


@dataclass
class DatasetReport:
    """What `check_dataset` found.

    Attributes:
        root: the checked folder.
        layout: one of `LAYOUTS`.
        splits: per split ("" when ROOT has no split folders): file counts per role
            (`A`/`B`, `combined`, `a`/`b`, `hr`/`lr`), matched `pairs`, and the smallest
            and largest image size per role as `[width, height]` (combined files: the
            size of each half).
        errors: `Problem`s that make training fail or go wrong.
        warnings: `Problem`s worth a look that do not stop training.
        crop: the crop size the images were checked against (None: not checked).
        scale: the SR scale (given, or found from `hr/` + `lr/`).
    """

    root: str
    layout: str
    splits: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    crop: int | None = None
    scale: int | None = None

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings are allowed)."""
        return not self.errors

    def to_dict(self) -> dict:
        """A JSON-serialisable dict (what `i2i dataset check --json` prints)."""
        out = asdict(self)
        out["ok"] = self.ok
        return out

    def format(self, limit: int = 20) -> str:
        """A human-readable report, at most `limit` lines per problem kind."""
        lines = [f"dataset: {self.root}", f"layout: {self.layout}"]
        if self.scale:
            lines.append(f"scale: x{self.scale}")
        for split, info in self.splits.items():
            counts = ", ".join(f"{k} {v}" for k, v in info.items() if isinstance(v, int))
            lines.append(f"  {split or '(root)'}: {counts}")
            for role, sizes in info.get("sizes", {}).items():
                (w0, h0), (w1, h1) = sizes["min"], sizes["max"]
                half = " (each half)" if self.layout == "paired-combined" else ""
                lines.append(f"    {role} sizes{half}: {w0}x{h0} .. {w1}x{h1}")
        for title, problems in (("errors", self.errors), ("warnings", self.warnings)):
            if not problems:
                continue
            lines.append(f"{title} ({len(problems)}):")
            by_kind = defaultdict(list)
            for problem in problems:
                by_kind[problem.kind].append(problem)
            for kind, group in by_kind.items():
                lines.extend(f"  {kind}: {p.message}" for p in group[:limit])
                if len(group) > limit:
                    lines.append(f"  {kind}: ... and {len(group) - limit} more")
        crop = f" for a {self.crop}x{self.crop} crop" if self.crop else ""
        verdict = "OK" if self.ok else f"{len(self.errors)} error(s)"
        lines.append(f"result{crop}: {verdict}, {len(self.warnings)} warning(s)")
        return "\n".join(lines)

    def raise_for_errors(self) -> None:
        """Raise `DatasetError` (one line: the first error and how many more) if not ok."""
        if self.ok:
            return
        more = len(self.errors) - 1
        tail = f" (and {more} more: run `i2i dataset check {self.root}`)" if more else ""
        raise DatasetError(f"{self.root}: {self.errors[0].message}{tail}")


# --- finding files ---------------------------------------------------------------------


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
            sizes.append(probe_size(path))
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


def _listed(folder: Path) -> list[Path]:
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
        items = _listed(roles["combined"])
    elif layout == "paired-split":
        items, unmatched, ambiguous = match_by_stem(_listed(roles["A"]), _listed(roles["B"]))
        if unmatched:
            names = _names(unmatched, folder)
            raise DatasetError(
                f"{folder}: {len(unmatched)} file(s) without a partner of the same name in "
                f"{roles['A'].name}/ and {roles['B'].name}/: {names}"
            )
        if ambiguous:
            names = _names(ambiguous, folder)
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
        files = _listed(roles["hr"])
        if not files:
            raise DatasetError(f"{roles['hr']}: no images")
        return files, None
    pairs, unmatched, ambiguous = match_by_stem(_listed(roles["hr"]), _listed(roles["lr"]))
    if unmatched or ambiguous:
        names = _names(unmatched + ambiguous, folder)
        raise DatasetError(f"{folder}: hr/ and lr/ files do not match one to one: {names}")
    if not pairs:
        raise DatasetError(f"{folder}: no images")
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _names(paths, root, shown: int = _SHOWN) -> str:
    names = [_rel(p, root) for p in paths[:shown]]
    more = f" and {len(paths) - shown} more" if len(paths) > shown else ""
    return ", ".join(names) + more


def _rel(path, root) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


# --- sizes -----------------------------------------------------------------------------


def probe_size(path) -> tuple[int, int]:
    """`(width, height)` of an image file as read (EXIF rotation applied), from its header.

    Raises:
        ImageReadError: the header cannot be read.
    """
    from PIL import Image

    try:
        with Image.open(path) as image:
            width, height = image.size
            # PNG keeps EXIF after the pixels, where `getexif` would decode everything.
            orientation = 1 if image.format == "PNG" else image.getexif().get(0x0112, 1)
    except FileNotFoundError:
        raise imageio.ImageReadError(path, "file not found") from None
    except Exception as error:  # PIL raises many types for bad headers
        raise imageio.ImageReadError(path, f"cannot read the header ({error})") from None
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


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
    with ThreadPoolExecutor(_workers()) as pool:
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
                " vs ".join(f"{_rel(p, root)} ({_wh(sizes[p])})" for p in g) for g in different[:3]
            )
            raise DatasetError(
                f"{root}: {len(different)} pair(s) of different sizes cannot be cropped together "
                f"without a resize: {shown}"
            )
    if crop:
        small = [p for p in flat if min(sizes[p]) < crop]
        if small:
            shown = ", ".join(f"{_rel(p, root)} ({_wh(sizes[p])})" for p in small[:_SHOWN])
            more = f" and {len(small) - _SHOWN} more" if len(small) > _SHOWN else ""
            raise DatasetError(
                f"{root}: {len(small)} image(s) smaller than the {crop}x{crop} crop: {shown}{more} "
                "(use a smaller image size, or remove them)"
            )


def _try_probe(path):
    try:
        return probe_size(path)
    except imageio.ImageReadError as error:
        return error


def _wh(size) -> str:
    return f"{size[0]}x{size[1]}"


def _workers() -> int:
    return min(8, os.cpu_count() or 1)


# --- the check -------------------------------------------------------------------------


@dataclass
class _FileInfo:
    size: tuple[int, int] | None = None
    digest: str | None = None
    error: str | None = None


def _inspect(path: Path) -> _FileInfo:
    """Read and fully decode one file (truncation only shows when decoding), and hash it."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return _FileInfo(error=f"cannot read ({error.strerror})")
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    try:
        image = imageio.decode_image(data, path)
    except imageio.ImageReadError as error:
        return _FileInfo(digest=digest, error=error.reason)
    return _FileInfo(size=(image.shape[1], image.shape[0]), digest=digest)


def inspect_files(paths, desc: str = "reading") -> dict[Path, _FileInfo]:
    """Decode and hash files in threads (OpenCV releases the GIL), with a progress bar."""
    from tqdm import tqdm

    paths = list(dict.fromkeys(paths))
    with ThreadPoolExecutor(_workers()) as pool:
        results = pool.map(_inspect, paths)
        bar = tqdm(
            results, total=len(paths), desc=desc, unit="img", disable=len(paths) <= FEW or None
        )
        return dict(zip(paths, bar, strict=True))


def check_dataset(
    path, layout: str | None = None, crop: int | None = None, scale: int | None = None
):
    """Check a dataset folder before training on it.

    Every image is read in full once. Nothing is modified.

    Args:
        path: the dataset root (with or without `train/`, `test/` split folders).
        layout: None to detect it, a family ("paired", "unpaired", "sr") or a layout
            name from `LAYOUTS`.
        crop: report images smaller than `crop` x `crop` (for combined files: each half;
            for SR: the HR patch size). None skips this check.
        scale: SR only: the expected HR/LR scale (`sr-pairs`); by default the most common
            scale found is expected of every pair.

    Returns:
        A `DatasetReport`; `report.ok` is False when there are errors, and
        `report.raise_for_errors()` raises a one-line `DatasetError`.

    Raises:
        DatasetError: `path` is not a folder or holds no known layout.
    """
    root = Path(path)
    layout = resolve_layout(root, layout)
    report = DatasetReport(root=str(root), layout=layout, crop=crop, scale=scale)
    # An unpaired root without trainA/ trainB/ still gets its missing folders reported.
    names = split_names(root, layout) or ["train"]
    splits = {split: role_folders(root, layout, split) for split in names}
    files = {
        split: {role: _listed(folder) for role, folder in roles.items()}
        for split, roles in splits.items()
    }
    info = inspect_files(
        [p for roles in files.values() for fs in roles.values() for p in fs], "checking"
    )

    def error(kind, message, *paths):
        report.errors.append(Problem(kind, message, tuple(_rel(p, root) for p in paths)))

    def warn(kind, message, *paths):
        report.warnings.append(Problem(kind, message, tuple(_rel(p, root) for p in paths)))

    def rel(p):
        return _rel(p, root)

    if layout != "unpaired" and splits.keys() != {""}:
        stray = imageio.list_images(root)
        if stray:
            warn(
                "stray",
                f"{len(stray)} image(s) in {root} outside the split folders: {_names(stray, root)}",
                *stray,
            )

    found_scales = []
    for split, roles in splits.items():
        counts = {}
        for role, folder in roles.items():
            counts[role] = len(files[split][role])
            if not folder.is_dir():
                error("missing", f"{rel(folder)}/ is missing", folder)
            elif not files[split][role]:
                error("empty", f"{rel(folder)}/ has no images", folder)
        for role_files in files[split].values():
            for p in role_files:
                if info[p].error:
                    error("unreadable", f"{rel(p)}: {info[p].error}", p)

        pairs = []
        if layout in ("paired-split", "sr-pairs"):
            left, right = files[split].values()
            pairs, unmatched, ambiguous = match_by_stem(left, right)
            left_set, (left_folder, right_folder) = set(left), roles.values()
            for p in unmatched:
                other = right_folder if p in left_set else left_folder
                error("unmatched", f"{rel(p)}: no file named {p.stem}.* in {rel(other)}/", p)
            for p in ambiguous:
                error(
                    "ambiguous",
                    f"{rel(p)}: another file in {rel(p.parent)}/ has the stem {p.stem!r}",
                    p,
                )
            counts["pairs"] = len(pairs)
        elif layout == "paired-combined":
            counts["pairs"] = counts["combined"]

        sizes = {p: info[p].size for fs in files[split].values() for p in fs if info[p].size}
        if layout == "paired-combined":
            for p, (w, h) in list(sizes.items()):
                if w % 2:
                    warn(
                        "odd-width", f"{rel(p)}: width {w} is odd; the A|B halves lose a column", p
                    )
                sizes[p] = (w // 2, h)
        for a, b in pairs:
            if a in sizes and b in sizes:
                if layout == "paired-split" and sizes[a] != sizes[b]:
                    warn(
                        "size-mismatch",
                        f"{rel(a)} is {_wh(sizes[a])} but {rel(b)} is {_wh(sizes[b])} "
                        "(fine when resized; cannot be cropped together at full size)",
                        a,
                        b,
                    )
                if layout == "sr-pairs":
                    found_scales.append((a, b, _pair_scale(sizes[a], sizes[b])))

        checked_roles = ("hr",) if layout.startswith("sr") else tuple(roles)
        if crop:
            for role in checked_roles:
                for p in files[split][role]:
                    if p in sizes and min(sizes[p]) < crop:
                        what = "each half " if layout == "paired-combined" else ""
                        size = f"{what}{_wh(sizes[p])}"
                        error(
                            "too-small",
                            f"{rel(p)}: {size} is smaller than the {crop}x{crop} crop",
                            p,
                        )
        role_sizes = {}
        for role, role_files in files[split].items():
            known = [sizes[p] for p in role_files if p in sizes]
            if known:
                role_sizes[role] = {
                    "min": list(min(known, key=lambda s: s[0] * s[1])),
                    "max": list(max(known, key=lambda s: s[0] * s[1])),
                }
        counts["sizes"] = role_sizes
        report.splits[split] = counts

    if found_scales:
        _check_scales(found_scales, scale, report, error)
    _check_duplicates(files, info, root, error, warn)
    return report


def _pair_scale(hr, lr):
    """The integer scale from an LR size to an HR size, or None when there is none."""
    (hw, hh), (lw, lh) = hr, lr
    if lw and lh and hw % lw == 0 and hh % lh == 0 and hw // lw == hh // lh:
        return hw // lw
    return None


def _check_scales(found, scale, report, error):
    expected = scale
    if expected is None:
        known = [s for _, _, s in found if s]
        expected = Counter(known).most_common(1)[0][0] if known else None
    report.scale = expected
    root = Path(report.root)
    for hr, lr, s in found:
        if s != expected:
            what = f"x{s}" if s else "not an integer scale"
            error(
                "scale",
                f"{_rel(hr, root)} and {_rel(lr, root)}: HR/LR is {what}, expected x{expected}",
                hr,
                lr,
            )


def _check_duplicates(files, info, root, error, warn):
    """Identical files (same bytes) within one role: a warning in a split, an error across
    splits (the test set would leak into training)."""
    groups = defaultdict(list)
    for split, roles in files.items():
        for role, role_files in roles.items():
            # Unpaired domains / paired sides are compared across splits (trainA vs testA).
            for p in role_files:
                if info[p].digest:
                    groups[(role, info[p].digest)].append((split, p))
    for members in groups.values():
        if len(members) < 2:
            continue
        paths = [p for _, p in members]
        names = " = ".join(_rel(p, root) for p in paths[:_SHOWN])
        if len({split for split, _ in members}) > 1:
            error("leak", f"the same image is in several splits: {names}", *paths)
        else:
            warn("duplicate", f"identical files: {names}", *paths)
