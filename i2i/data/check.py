"""Checking a dataset before training on it: every file read once, every problem named.

`check_dataset` detects the layout (`i2i.data.layout`), reads every file once (in
threads, with a progress bar) and returns a `DatasetReport`: counts, image sizes, and
problems. Errors (training would fail or be wrong): unreadable files, unmatched or
ambiguous pairs, images smaller than the crop, HR/LR scale mismatches, the same image in
two splits (test data leaking into training), empty folders. Warnings: exact duplicates
within a split, A/B size mismatches, odd combined widths, images outside the split
folders and, when no crop is given, images far smaller than the others (a shorter side
under a quarter of the median's: a thumbnail among photos).

Example:

```python
report = check_dataset("data/facades", layout="paired", crop=256)
print(report.format())
report.raise_for_errors()  # DatasetError with one line naming the first problem
```
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from i2i import imageio
from i2i.data.layout import (  # noqa: F401  (DatasetError, LAYOUTS: re-exported with the check)
    LAYOUTS,
    DatasetError,
    listed,
    match_by_stem,
    name_list,
    relative,
    resolve_layout,
    role_folders,
    size_text,
    split_names,
    workers,
)

# Folders with more images than this get a progress bar.
FEW = 8
# Without a crop: an image whose shorter side is this many times below the median is
# warned about.
SMALL_OUTLIER = 4
_SHOWN = 5


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
    with ThreadPoolExecutor(workers()) as pool:
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
        split: {role: listed(folder) for role, folder in roles.items()}
        for split, roles in splits.items()
    }
    info = inspect_files(
        [p for roles in files.values() for fs in roles.values() for p in fs], "checking"
    )

    def error(kind, message, *paths):
        report.errors.append(Problem(kind, message, tuple(relative(p, root) for p in paths)))

    def warn(kind, message, *paths):
        report.warnings.append(Problem(kind, message, tuple(relative(p, root) for p in paths)))

    def rel(p):
        return relative(p, root)

    if layout != "unpaired" and splits.keys() != {""}:
        stray = imageio.list_images(root)
        if stray:
            warn(
                "stray",
                f"{len(stray)} image(s) in {root} outside the split folders: "
                f"{name_list(stray, root)}",
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
                        f"{rel(a)} is {size_text(sizes[a])} but {rel(b)} is {size_text(sizes[b])} "
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
                        size = f"{what}{size_text(sizes[p])}"
                        error(
                            "too-small",
                            f"{rel(p)}: {size} is smaller than the {crop}x{crop} crop",
                            p,
                        )
        else:
            # No crop to check against: flag what is far smaller than its neighbours (a
            # 20x20 image among 400x300 ones is a thumbnail or a mistake, not a photo).
            for role in checked_roles:
                known = [p for p in files[split][role] if p in sizes]
                if len(known) < 3:
                    continue
                typical = float(np.median([min(sizes[p]) for p in known]))
                for p in known:
                    if min(sizes[p]) * SMALL_OUTLIER < typical:
                        warn(
                            "far-smaller",
                            f"{rel(p)}: {size_text(sizes[p])} is far smaller than the other "
                            f"images (median shorter side {typical:g} px); check with --crop "
                            "the training crop size",
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
                f"{relative(hr, root)} and {relative(lr, root)}: HR/LR is {what}, "
                f"expected x{expected}",
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
        names = " = ".join(relative(p, root) for p in paths[:_SHOWN])
        if len({split for split, _ in members}) > 1:
            error("leak", f"the same image is in several splits: {names}", *paths)
        else:
            warn("duplicate", f"identical files: {names}", *paths)
