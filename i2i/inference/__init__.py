"""Tiled, batched, streaming inference: the engine behind `i2i upscale` and `i2i translate`.

`Engine` runs a generator on images of any size and kind; `plan_jobs` and `run_jobs` run
it over files, folders and globs, mirroring the input tree under an output folder.
Three modules, one job each: `tiling` (plan the tiles, blend them), `engine` (the model,
its precision, alpha and dtypes), `jobs` (folders of files). This package exports their
public names.

An image goes through the model tile by tile, blended without seams, in the card's value
range and at its scale; gray, RGBA and 16-bit images keep their kind (see `engine`).

Example:

```python
from i2i import imageio, inference, zoo

model, card = zoo.load_generator("srresnet-x4")
engine = inference.Engine(model, card)                # auto tile from the memory budget
sr = engine.process(imageio.read_image("photo.png"))  # uint8/uint16, gray/RGB/RGBA

jobs = inference.plan_jobs(["photos/"], "upscaled/", recursive=True)
summary = inference.run_jobs(engine, jobs, skip_existing=True)
```
"""

from i2i.inference.engine import (
    ALPHA_MODES,
    DEFAULT_MEMORY_BUDGET,
    DEFAULT_OVERLAP,
    MAX_TILE,
    MIN_TILE,
    PRECISIONS,
    Engine,
    InferenceError,
    estimate_bytes_per_pixel,
    fill_transparent,
    probe_min_side,
)
from i2i.inference.jobs import (
    EXTENSIONS,
    Job,
    Summary,
    collect_inputs,
    describe,
    images_in_subfolders,
    plan_jobs,
    run_jobs,
    split_existing,
)
from i2i.inference.tiling import AxisPlan, plan_axis, tile_weights

__all__ = [
    "ALPHA_MODES",
    "DEFAULT_MEMORY_BUDGET",
    "DEFAULT_OVERLAP",
    "EXTENSIONS",
    "MAX_TILE",
    "MIN_TILE",
    "PRECISIONS",
    "AxisPlan",
    "Engine",
    "InferenceError",
    "Job",
    "Summary",
    "collect_inputs",
    "describe",
    "estimate_bytes_per_pixel",
    "fill_transparent",
    "images_in_subfolders",
    "plan_axis",
    "plan_jobs",
    "probe_min_side",
    "run_jobs",
    "split_existing",
    "tile_weights",
]
