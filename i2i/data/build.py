"""Dataset builders behind `i2i dataset ...`: loose folders -> the layouts i2i trains on.

- `build_paired(a_dir, b_dir, out)`: files matched by stem -> `OUT/train/A/`, `OUT/train/B/`
  (or, with `combine=True`, `OUT/train/<stem>.png` holding A|B side by side, the pix2pix
  reference format), plus `OUT/test/...` with `test_fraction`;
- `build_unpaired(a_dir, b_dir, out)`: -> `OUT/trainA/`, `OUT/trainB/` (+ `testA/`, `testB/`);
- `build_sr(hr_dir, out, scale)`: -> `OUT/hr/` + `OUT/lr/` pairs (LR by MATLAB bicubic or
  a realistic degradation), e.g. a fixed validation set.

Rules shared by all builders: the sources are only read; OUT may not lie inside a
source; an existing non-empty OUT is refused unless `force=True` (which writes into it,
replacing same-named files, and deletes nothing); every source image is decoded before
it is used, and an unreadable one is skipped and listed in the result (the build goes
on); files are written atomically (a hidden temporary file, then a rename). Images that
are copied unchanged keep their bytes (a JPEG is not re-encoded); new images (combined
A|B, HR/LR pairs) are written as PNG through `i2i.imageio.write_image`. The train/test
split is a seeded shuffle: the same seed gives the same split.

Example:

```python
from i2i.data.build import build_paired

result = build_paired("photos/day", "photos/night", "data/day2night", test_fraction=0.1)
print(result.format())
```
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from i2i import imageio
from i2i.common import SET_DEGRADATIONS, atomic_write
from i2i.data import check
from i2i.data.decode import as_rgb
from i2i.data.layout import DatasetError, match_by_stem


@dataclass
class BuildResult:
    """What a builder wrote.

    Attributes:
        out: the output folder.
        layout: the layout written (one of `i2i.data.check.LAYOUTS`).
        counts: per split, items written (pairs or images per domain).
        skipped: `(source file, reason)` for every source left out.
        scale: the SR scale (SR pairs only).
    """

    out: str
    layout: str
    counts: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)
    scale: int | None = None

    def format(self) -> str:
        """A short human-readable summary, listing every skipped file."""
        written = "; ".join(
            (f"{split}: " if split else "") + ", ".join(f"{n} {what}" for what, n in counts.items())
            for split, counts in self.counts.items()
        )
        scale = f" x{self.scale}" if self.scale else ""
        lines = [f"wrote {self.layout}{scale} dataset {self.out} ({written})"]
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} source file(s):")
            lines.extend(f"  {path}: {reason}" for path, reason in self.skipped)
        return "\n".join(lines)


# --- shared rules ----------------------------------------------------------------------


def prepare_out(out, sources, force: bool = False) -> Path:
    """Check OUT against the sources and create it.

    Raises:
        DatasetError: a source is missing, OUT is a source or inside one, OUT is a file,
            or OUT is a non-empty folder and `force` is False.
    """
    out = Path(out)
    resolved = out.resolve()
    for source in sources:
        source = Path(source)
        if not source.is_dir():
            raise DatasetError(f"{source}: not a folder")
        if resolved == source.resolve() or source.resolve() in resolved.parents:
            raise DatasetError(f"{out}: lies inside the source folder {source}; choose another OUT")
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise DatasetError(f"{out}: exists and is not empty (use --force to write into it)")
    out.mkdir(parents=True, exist_ok=True)
    return out


def split_test(items, test_fraction: float, seed: int):
    """`(train, test)`: a seeded shuffle of `items` cut at `test_fraction`.

    A positive fraction puts at least one item in test (when there are two or more),
    and at least one always stays in train.
    """
    if not 0.0 <= test_fraction < 1.0:
        raise DatasetError(f"test fraction {test_fraction} is not in [0, 1)")
    items = list(items)
    order = np.random.default_rng(seed).permutation(len(items))
    count = int(round(test_fraction * len(items)))
    if test_fraction > 0 and len(items) >= 2:
        count = min(max(count, 1), len(items) - 1)
    test = {int(i) for i in order[:count]}
    return (
        [x for i, x in enumerate(items) if i not in test],
        [x for i, x in enumerate(items) if i in test],
    )


def copy_file(source, target) -> Path:
    """Copy bytes atomically (hidden temporary file in the target folder, then rename)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(target, lambda temporary: shutil.copyfile(source, temporary))


def _run(jobs, function, desc: str):
    """`function(job)` for every job in threads with a progress bar; the results in order."""
    from tqdm import tqdm

    jobs = list(jobs)
    with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
        results = pool.map(function, jobs)
        # More than a few images: a bar (tqdm hides it when stderr is not a terminal).
        disable = len(jobs) <= check.FEW or None
        return list(tqdm(results, total=len(jobs), desc=desc, unit="img", disable=disable))


def _verify(paths, result: BuildResult) -> dict:
    """Decode every source once (threads, progress bar); unreadable ones go to `skipped`.

    Returns `i2i.data.check.inspect_files` infos: `.size` (w, h) and `.error` per path.
    """
    info = check.inspect_files(paths, "reading")
    result.skipped += [(str(p), i.error) for p, i in info.items() if i.error]
    return info


# --- paired ----------------------------------------------------------------------------


def build_paired(
    a_dir,
    b_dir,
    out,
    *,
    combine: bool = False,
    test_fraction: float = 0.0,
    seed: int = 0,
    force: bool = False,
) -> BuildResult:
    """Build a paired dataset from two folders whose files match by stem.

    Args:
        a_dir: the A (source) images.
        b_dir: the B (target) images, same stems (`A/001.jpg` goes with `B/001.png`).
        out: the output folder.
        combine: write A|B side by side in one PNG per pair (`OUT/train/<stem>.png`,
            pix2pix reference format; A and B must have equal sizes) instead of copying
            to `OUT/train/A/` and `OUT/train/B/`.
        test_fraction: fraction of pairs moved to `OUT/test/` (seeded).
        seed: the split's seed.
        force: write into an existing non-empty OUT.

    Returns:
        A `BuildResult`; unmatched, ambiguous and unreadable sources are in `skipped`.
    """
    if Path(a_dir).resolve() == Path(b_dir).resolve():
        raise DatasetError(f"{a_dir}: A and B are the same folder")
    out = prepare_out(out, [a_dir, b_dir], force)
    layout = "paired-combined" if combine else "paired-split"
    result = BuildResult(out=str(out), layout=layout)
    pairs, unmatched, ambiguous = match_by_stem(
        imageio.list_images(a_dir), imageio.list_images(b_dir)
    )
    result.skipped += [
        (str(p), "no file with the same name (stem) on the other side") for p in unmatched
    ]
    result.skipped += [(str(p), "another file has the same name (stem)") for p in ambiguous]
    info = _verify([p for pair in pairs for p in pair], result)
    usable = []
    for a, b in pairs:
        if info[a].error or info[b].error:
            continue  # already listed by _verify
        if combine and info[a].size != info[b].size:
            (wa, ha), (wb, hb) = info[a].size, info[b].size
            reason = f"A is {wa}x{ha} but B is {wb}x{hb}; combined A|B files need equal sizes"
            result.skipped.append((str(a), reason))
            continue
        usable.append((a, b))
    if not usable:
        raise DatasetError(f"{a_dir}, {b_dir}: no usable pairs ({len(result.skipped)} skipped)")
    protect = [p for pair in pairs for p in pair]
    train, test = split_test(usable, test_fraction, seed)
    jobs = [
        (split, pair) for split, chosen in (("train", train), ("test", test)) for pair in chosen
    ]

    def write(job):
        split, (a, b) = job
        if not combine:
            copy_file(a, out / split / "A" / a.name)
            copy_file(b, out / split / "B" / b.name)
            return
        # Combined files are RGB, as the pipelines read them.
        left, right = (as_rgb(imageio.read_image(p)) for p in (a, b))
        if left.dtype != right.dtype:
            left, right = imageio.to_uint8(left), imageio.to_uint8(right)
        combined = np.concatenate([left, right], axis=1)
        imageio.write_image(out / split / f"{a.stem}.png", combined, protect=protect)

    _run(jobs, write, "writing")
    result.counts = {
        split: {"pairs": len(chosen)}
        for split, chosen in (("train", train), ("test", test))
        if chosen
    }
    return result


# --- unpaired --------------------------------------------------------------------------


def build_unpaired(
    a_dir, b_dir, out, *, test_fraction: float = 0.0, seed: int = 0, force: bool = False
) -> BuildResult:
    """Build an unpaired dataset: `OUT/trainA/`, `OUT/trainB/` (+ `testA/`, `testB/`).

    Each domain is split on its own (seeds `seed` and `seed + 1`); files are copied.

    Args:
        a_dir: domain A images.
        b_dir: domain B images (any number, unrelated names).
        out: the output folder.
        test_fraction: fraction of each domain moved to `testA/` / `testB/`.
        seed: the split's seed.
        force: write into an existing non-empty OUT.
    """
    if Path(a_dir).resolve() == Path(b_dir).resolve():
        raise DatasetError(f"{a_dir}: A and B are the same folder")
    out = prepare_out(out, [a_dir, b_dir], force)
    result = BuildResult(out=str(out), layout="unpaired")
    jobs = []
    for index, (domain, folder) in enumerate((("A", a_dir), ("B", b_dir))):
        files = imageio.list_images(folder)
        info = _verify(files, result)
        usable = [p for p in files if not info[p].error]
        if not usable:
            raise DatasetError(f"{folder}: no readable images ({len(files)} file(s))")
        train, test = split_test(usable, test_fraction, seed + index)
        for split, chosen in (("train", train), ("test", test)):
            if chosen:
                result.counts.setdefault(split, {"A": 0, "B": 0})[domain] = len(chosen)
            jobs += [(out / f"{split}{domain}" / path.name, path) for path in chosen]
    _run(jobs, lambda job: copy_file(job[1], job[0]), "writing")
    return result


# --- super-resolution ------------------------------------------------------------------


def build_sr(
    hr_dir,
    out,
    *,
    scale: int = 4,
    patch: int | None = None,
    degrade: str = "bicubic",
    seed: int = 0,
    force: bool = False,
    degrade_options=None,
) -> BuildResult:
    """Write HR/LR pairs `OUT/hr/<stem>.png` + `OUT/lr/<stem>.png` from a folder of HR images.

    LR comes from `i2i.data.resize.downsample` (MATLAB `imresize` bicubic with
    antialiasing, the SR literature's LR) or `i2i.data.degradations.degrade` (the
    Real-ESRGAN high-order degradation: blur, resize, noise, JPEG, twice, then a sinc
    filter; seeded per image, so the same seed writes the same LR). For inspecting what
    a model is trained on, and for fixed validation sets.

    Args:
        hr_dir: the HR images.
        out: the output folder.
        scale: integer factor; HR is cropped (bottom/right) to a multiple of it, so every
            HR is exactly `scale` times its LR.
        patch: HR side of one central square crop per image (a multiple of `scale`);
            None keeps whole images. Images smaller than the patch are skipped and listed.
        degrade: "bicubic", "realistic" or "phone" (`degradations.phone`: bicubic, mild
            noise, JPEG; a test set unlike the realistic training degradation).
        seed: seed of the realistic degradation (image i gets seed + i).
        force: write into an existing non-empty OUT.
        degrade_options: the realistic degradation's options: a
            `degradations.Degradation`, a dict or a JSON file (`degradations.load_options`).
    """
    from i2i.data import degradations, sr

    if int(scale) != scale or scale < 2:
        raise DatasetError(f"scale must be an integer of at least 2, got {scale}")
    if patch is not None and (patch < scale or patch % scale):
        raise DatasetError(f"patch {patch} is not a multiple of the scale {scale}")
    if degrade not in SET_DEGRADATIONS:
        raise DatasetError(f"unknown degradation {degrade!r} (use bicubic, realistic or phone)")
    if not isinstance(degrade_options, degradations.Degradation):
        try:
            degrade_options = degradations.load_options(degrade_options)
        except ValueError as error:
            raise DatasetError(str(error)) from None
    out = prepare_out(out, [hr_dir], force)
    result = BuildResult(out=str(out), layout="sr-pairs", scale=int(scale))
    files = imageio.list_images(hr_dir)
    _, _, ambiguous = match_by_stem(files, [])
    result.skipped += [(str(p), "another file has the same name (stem)") for p in ambiguous]
    files = [p for p in files if p not in ambiguous]
    info = _verify(files, result)
    usable = []
    for path in files:
        if info[path].error:
            continue
        width, height = info[path].size
        need = patch or scale
        if min(width, height) < need:
            what = f"the {patch}x{patch} patch" if patch else f"the scale {scale}"
            result.skipped.append((str(path), f"{width}x{height} is smaller than {what}"))
            continue
        usable.append(path)
    if not usable:
        raise DatasetError(f"{hr_dir}: no usable HR images ({len(result.skipped)} skipped)")

    def write(job):
        index, path = job
        hr = imageio.to_uint8(as_rgb(imageio.read_image(path)))
        if patch:
            top, left = (hr.shape[0] - patch) // 2, (hr.shape[1] - patch) // 2
            hr = hr[top : top + patch, left : left + patch]
        hr = np.ascontiguousarray(sr.mod_crop(hr, scale))
        if degrade == "bicubic":
            lr = sr.downsample(hr, scale)
        elif degrade == "phone":
            lr = degradations.phone(hr, scale, seed=seed + index)
        else:
            lr = degradations.degrade(hr, scale, seed=seed + index, options=degrade_options)
        imageio.write_image(out / "hr" / f"{path.stem}.png", hr, protect=files)
        imageio.write_image(out / "lr" / f"{path.stem}.png", lr, protect=files)

    _run(list(enumerate(usable)), write, "writing")
    result.counts = {"": {"pairs": len(usable)}}
    return result
