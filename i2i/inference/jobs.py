"""Folder jobs: files, folders and globs in, a mirrored output tree out.

`plan_jobs` maps inputs to output files under an output folder (sub-folders mirrored,
never onto an input, no two inputs onto one output); `run_jobs` runs an
`i2i.inference.engine.Engine` over them with decoding ahead and encoding behind in
threads, reports unreadable images and goes on, and returns a `Summary`. Writes are
atomic (`i2i.imageio`); `skip_existing` resumes an interrupted job; a format that cannot
hold a result (alpha or 16 bit in JPEG) is written as PNG.

Example:

```python
from i2i.inference import Engine, describe, plan_jobs, run_jobs

jobs = plan_jobs(["photos/"], "upscaled/", recursive=True)
summary = run_jobs(Engine(model, card), jobs, skip_existing=True)
print("\\n".join(describe(summary, "upscaled/")))
```
"""

from __future__ import annotations

import glob
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from i2i import imageio
from i2i.common import OUTPUT_EXTENSIONS as EXTENSIONS
from i2i.inference.engine import Engine, InferenceError


@dataclass(frozen=True)
class Job:
    """One image to process: read `source`, write `target`."""

    source: Path
    target: Path


@dataclass
class Summary:
    """What `run_jobs` did.

    Attributes:
        written: output files written.
        skipped: jobs skipped because their output existed (`skip_existing`).
        failed: `(source, reason)` for each image that could not be processed.
        converted: outputs written as PNG because the asked format cannot hold them
            (alpha in JPEG, 16-bit in JPEG/WebP).
        megapixels: output megapixels written.
        seconds: wall time.
    """

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    converted: list[Path] = field(default_factory=list)
    megapixels: float = 0.0
    seconds: float = 0.0
    tiled_inexact: int = 0


def collect_inputs(inputs: Sequence, recursive: bool = False) -> list[tuple[Path, Path]]:
    """Expand files, folders and globs into `(image, path relative to its root)` pairs.

    Folders list their images (with sub-folders if `recursive`); a glob (`*`, `?`, `[`,
    `**` with `recursive`) keeps paths relative to the folder before its first wildcard;
    a file stands for itself. Order: as given, each expansion sorted.

    Raises:
        InferenceError: an input names nothing, or a folder/glob holds no image.
    """
    pairs = []
    for item in inputs:
        text = str(item)
        path = Path(text).expanduser()
        if path.is_dir():
            found = imageio.list_images(path, recursive=recursive)
            if not found:
                hint = "" if recursive else " (sub-folders are read with --recursive)"
                raise InferenceError(f"{path}: no images in this folder{hint}")
            pairs.extend((p, p.relative_to(path)) for p in found)
        elif path.is_file():
            pairs.append((path, Path(path.name)))
        elif glob.has_magic(text):
            root = _glob_root(text)
            found = sorted(
                Path(p)
                for p in glob.glob(os.path.expanduser(text), recursive=recursive)
                if Path(p).is_file() and imageio.is_image_file(p)
            )
            if not found:
                raise InferenceError(f"{text}: the pattern matches no image")
            pairs.extend((p, p.relative_to(root)) for p in found)
        else:
            raise InferenceError(f"{text}: no such file or folder")
    return pairs


def _glob_root(pattern: str) -> Path:
    parts = Path(os.path.expanduser(pattern)).parts
    root = []
    for part in parts:
        if glob.has_magic(part):
            break
        root.append(part)
    return Path(*root) if root else Path(".")


def plan_jobs(
    inputs: Sequence,
    output,
    *,
    recursive: bool = False,
    ext: str = "same",
    suffix: str = "",
) -> list[Job]:
    """Map inputs to output files under `output`, mirroring their folders.

    Args:
        inputs: files, folders and globs (see `collect_inputs`).
        output: the output folder; or, for a single input file, an image file path.
        recursive: include sub-folders (mirrored under `output`).
        ext: output format: `"same"` as the input, or `"png"`, `"jpg"`, `"webp"`.
        suffix: appended to each output file's stem (`photo` -> `photo_x4`).

    Returns:
        The jobs, in input order.

    Raises:
        InferenceError: nothing to do, `output` is an input folder or file, or two
            inputs would write the same output file.
    """
    if ext not in EXTENSIONS:
        raise InferenceError(f"--ext must be one of {', '.join(EXTENSIONS)}, got {ext!r}")
    output = Path(output).expanduser()
    pairs = collect_inputs(inputs, recursive)
    out_resolved = output.resolve()
    for item in inputs:
        path = Path(str(item)).expanduser()
        if path.exists() and path.resolve() == out_resolved:
            raise InferenceError(
                f"{output}: the output is the input; choose another output folder "
                "(inputs are never overwritten)"
            )
    # Outputs of an earlier run inside an input folder are not inputs.
    pairs = [(p, rel) for p, rel in pairs if not _is_inside(p.resolve(), out_resolved)]
    if not pairs:
        raise InferenceError(f"nothing to do: every input is inside the output folder {output}")

    single_file = (
        len(pairs) == 1
        and Path(str(inputs[0])).is_file()
        and output.suffix.lower() in imageio.IMAGE_EXTENSIONS
    )
    if single_file:
        jobs = [Job(pairs[0][0], output)]
    else:
        if output.is_file():
            raise InferenceError(f"{output}: is a file; the output of several images is a folder")
        jobs = []
        for source, relative in pairs:
            extension = source.suffix if ext == "same" else f".{ext}"
            name = f"{relative.stem}{suffix}{extension}"
            jobs.append(Job(source, output / relative.parent / name))

    sources = {job.source.resolve(): job.source for job in jobs}
    targets: dict[Path, Path] = {}
    for job in jobs:
        key = job.target.resolve()
        if key in sources:
            raise InferenceError(f"{job.target}: would overwrite the input image {sources[key]}")
        if key in targets:
            raise InferenceError(
                f"{targets[key]} and {job.source} would both be written to {job.target} "
                "(use --ext same or --suffix)"
            )
        targets[key] = job.source
    return jobs


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def split_existing(jobs: Sequence[Job]) -> tuple[list[Job], list[Job]]:
    """`(to do, done)`: the jobs whose output is not there yet, and those whose output
    (or its PNG fallback for alpha / 16-bit images) an earlier run wrote.

    Only file names are checked, so a command can tell that there is nothing to do
    before it loads a model (`--skip-existing`).
    """
    planned = {job.target.resolve() for job in jobs}
    todo, done = [], []
    for job in jobs:
        # An earlier run may have written this job's PNG fallback (alpha or 16-bit), unless
        # that name is another job's own output.
        fallback = job.target.with_suffix(".png")
        exists = job.target.exists() or (fallback.resolve() not in planned and fallback.exists())
        (done if exists else todo).append(job)
    return todo, done


def images_in_subfolders(inputs: Sequence, output=None) -> int:
    """How many images the folders among `inputs` hold in sub-folders: what a run
    without `recursive` leaves out (images under `output` are not counted)."""
    out = Path(output).expanduser().resolve() if output is not None else None
    count = 0
    for item in inputs:
        path = Path(str(item)).expanduser()
        if path.is_dir():
            top = set(imageio.list_images(path))
            nested = [p for p in imageio.list_images(path, recursive=True) if p not in top]
            count += sum(1 for p in nested if out is None or not _is_inside(p.resolve(), out))
    return count


def _fallback_target(target: Path, image: np.ndarray) -> Path:
    """`target`, or the same name as PNG if its format cannot hold `image`."""
    ext = target.suffix.lower()
    has_alpha = image.ndim == 3 and image.shape[2] == 4
    deep = image.dtype == np.uint16
    if (has_alpha and ext in (".jpg", ".jpeg", ".bmp")) or (
        deep and ext not in imageio.SIXTEEN_BIT_EXTENSIONS
    ):
        return target.with_suffix(".png")
    return target


def run_jobs(
    engine: Engine,
    jobs: Sequence[Job],
    *,
    skip_existing: bool = False,
    progress: bool = True,
    report: Callable[[str], None] | None = None,
    prefetch: int = 2,
    quality: int | None = None,
) -> Summary:
    """Run `engine` over `jobs`: decode ahead, compute, encode behind, in threads.

    An unreadable image or a failed write is reported (`report`, default: stderr above
    the progress bar) and the job goes on; the summary lists the failures. Writes are
    atomic and never overwrite the job's input.

    Args:
        engine: the `Engine`.
        jobs: from `plan_jobs`.
        skip_existing: skip jobs whose output exists (resume an interrupted job).
        progress: show a tqdm progress bar (per tile when there is a single image).
        report: called with one line per failure.
        prefetch: images decoded ahead of the model.
        quality: JPEG/WebP quality (default 95).

    Returns:
        A `Summary`.
    """
    import time

    from tqdm import tqdm

    started = time.perf_counter()
    summary = Summary()
    if report is None:

        def report(line):
            tqdm.write(line, file=sys.stderr)

    planned = {job.target.resolve() for job in jobs}
    todo, done = split_existing(jobs) if skip_existing else (list(jobs), [])
    summary.skipped.extend(job.target for job in done)
    write_budget = 512 << 20  # bytes of finished images waiting to be encoded

    bar = tqdm(total=len(todo), unit="img", disable=not progress or not todo, file=sys.stderr)
    tile_bar = None
    readers = ThreadPoolExecutor(max(1, prefetch), thread_name_prefix="i2i-read")
    writers = ThreadPoolExecutor(1, thread_name_prefix="i2i-write")
    try:
        ahead = deque()
        queue = iter(todo)
        for job in queue:
            ahead.append((job, readers.submit(imageio.read_image, job.source)))
            if len(ahead) >= prefetch:
                break
        writing = deque()

        def settle(limit_bytes):
            while writing and (limit_bytes is None or sum(w[2] for w in writing) > limit_bytes):
                job, future, _ = writing.popleft()
                try:
                    path, megapixels, converted = future.result()
                except (imageio.ImageWriteError, OSError) as error:
                    summary.failed.append((job.source, str(error)))
                    report(f"failed: {error}")
                else:
                    summary.written.append(path)
                    summary.megapixels += megapixels
                    if converted:
                        summary.converted.append(path)

        while ahead:
            job, future = ahead.popleft()
            bar.set_postfix_str(job.source.name)  # the image being worked on
            following = next(queue, None)
            if following is not None:
                ahead.append((following, readers.submit(imageio.read_image, following.source)))
            try:
                image = future.result()
                del future  # the decoded image lives only as long as it is needed
            except imageio.ImageReadError as error:
                summary.failed.append((job.source, str(error)))
                report(f"skipped: {error}")
                bar.update(1)
                continue
            height, width = image.shape[:2]
            callback = None
            if progress and len(todo) == 1 and engine.is_tiled(height, width):
                rows, cols = engine.plan(height, width)
                tiles = len(rows.starts) * len(cols.starts)
                tile_bar = tqdm(total=tiles, unit="tile", leave=False, file=sys.stderr)
                callback = _tile_progress(tile_bar)

            if not engine.exact_tiling and engine.is_tiled(height, width):
                summary.tiled_inexact += 1
            try:
                result = engine.process(image, progress=callback)
            except (InferenceError, *_out_of_memory_errors()) as error:
                reason = (
                    str(error)
                    if isinstance(error, InferenceError)
                    else (f"out of memory ({type(error).__name__}); try a smaller --tile")
                )
                summary.failed.append((job.source, f"{job.source}: {reason}"))
                report(f"failed: {job.source}: {reason}")
                bar.update(1)
                continue
            finally:
                if tile_bar is not None:
                    tile_bar.close()
                    tile_bar = None
            del image
            target = _fallback_target(job.target, result)
            if target != job.target and target.resolve() in planned:
                reason = f"{target} is also another input's output; use a different --ext"
                summary.failed.append((job.source, f"{job.source}: {reason}"))
                report(f"failed: {job.source}: {reason}")
                bar.update(1)
                continue
            write = writers.submit(_write, target, result, job, quality)
            writing.append((job, write, result.nbytes))
            settle(write_budget)
            bar.update(1)
        settle(None)
    except BaseException:
        for _, future in ahead:
            future.cancel()
        raise
    finally:
        readers.shutdown(wait=True, cancel_futures=True)
        writers.shutdown(wait=True)
        bar.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _out_of_memory_errors() -> tuple:
    import tensorflow as tf

    return (MemoryError, tf.errors.ResourceExhaustedError)


def _tile_progress(bar):
    def update(done):
        bar.update(done - bar.n)

    return update


def _write(target: Path, image: np.ndarray, job: Job, quality):
    path = imageio.write_image(target, image, protect=(job.source,), quality=quality)
    return path, image.shape[0] * image.shape[1] / 1e6, target != job.target


def describe(summary: Summary, output) -> Iterable[str]:
    """The lines a command prints at the end of a job."""
    lines = []
    n = len(summary.written)
    rate = f", {summary.megapixels / summary.seconds:.2f} MP/s" if summary.seconds and n else ""
    lines.append(f"Wrote {n} image{'s' * (n != 1)} to {output} ({summary.seconds:.1f} s{rate})")
    if summary.skipped:
        lines.append(f"Skipped {len(summary.skipped)} already in {output} (--skip-existing)")
    if summary.converted:
        lines.append(
            f"Wrote {len(summary.converted)} as PNG: their format cannot hold alpha or 16 bits"
        )
    return lines
