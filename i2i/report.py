"""`i2i report`: one HTML page showing a training run at a glance.

From a run directory (see `i2i.training`: `config.json`, `log.csv`, `samples/*.png`)
it writes a folder (default `RUN_DIR/report/`) holding `report.html` and every image the
page shows, referenced by relative paths, so the folder can be copied or attached as it
is; the page loads nothing from the network. It shows:

- training-health warnings (`i2i.health`: D loss collapse, G adversarial divergence,
  low sample diversity);
- loss curves drawn with matplotlib (Agg, no display): generator terms, discriminator
  terms, validation metrics (PSNR, SSIM, ... where logged) and anything else logged;
- the last epoch's values;
- the latest sample grids (copied);
- the run config.

A missing piece (no log yet, no samples) is said on the page, not an error.

Example:

```python
from i2i import report

page = report.build_report("runs/p2p_facades")     # runs/p2p_facades/report/report.html
```
"""

from __future__ import annotations

import datetime
import html
import json
import math
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from i2i import health
from i2i.common import I2IError

# Curve groups, in page order: (title, file stem, does this column belong here?).
_GROUPS = (
    ("Generator losses", "generator", lambda c: re.match(r"^(g|gen|generator)(_|$)", c)),
    (
        "Discriminator losses",
        "discriminator",
        lambda c: re.match(r"^(d|disc|discriminator)(_|$)", c),
    ),
    ("Validation", "validation", lambda c: c.startswith("val_")),
    ("Sample diversity", "sample_diversity", lambda c: c == health.DIVERSITY_COLUMN),
    ("Learning rate", "learning_rate", lambda c: re.search(r"(^|_)(lr|learning_rate)$", c)),
    ("Other logged values", "other", lambda c: True),
)
_NOT_CURVES = {"epoch", "step", "steps"}
_MAX_POINTS_WITH_MARKERS = 60


class ReportError(I2IError):
    """The run directory cannot be reported on; one-line message."""


@dataclass
class Report:
    """What `build_report` wrote.

    Attributes:
        page: the `report.html` path.
        figures: `{file name: {column: (epochs, values)}}`, the points each curve PNG
            draws, read back from the plotted lines.
        samples: the sample grids shown (copies inside the report folder).
        warnings: the health warnings shown.
    """

    page: Path
    figures: dict[str, dict[str, tuple[list[float], list[float]]]] = field(default_factory=dict)
    samples: list[Path] = field(default_factory=list)
    warnings: list[health.HealthWarning] = field(default_factory=list)


def build_report(run_dir, out_dir=None, max_samples: int = 4) -> Report:
    """Write the report of a run (see the module doc).

    Args:
        run_dir: the run directory.
        out_dir: where to write `report.html` and its images (default `RUN_DIR/report`).
        max_samples: how many of the latest sample grids to show.

    Returns:
        A `Report`.

    Raises:
        ReportError: `run_dir` is not a folder, or log.csv / config.json cannot be read.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: run directory not found")
    out_dir = Path(out_dir) if out_dir is not None else run_dir / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    report = Report(page=out_dir / "report.html")

    history = _read_log(run_dir / "log.csv")
    config = _read_config(run_dir / "config.json")
    report.warnings = health.check_history(history) if history else []
    for title, stem, columns in curve_groups(history):
        report.figures[f"{stem}.png"] = plot_curves(
            history, columns, out_dir / f"{stem}.png", title
        )
    report.samples = _copy_samples(latest_samples(run_dir / "samples", max_samples), out_dir)

    page = _page(run_dir, history, config, report, out_dir)
    temporary = report.page.with_name(".report.html.tmp")
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(report.page)
    return report


def curve_groups(history: Mapping[str, Sequence[float]]) -> list[tuple[str, str, list[str]]]:
    """`(title, file stem, columns)` per non-empty group of logged columns.

    Validation columns are split so PSNR (dB) and [0, 1] metrics get their own axes.
    """
    remaining = [c for c in history if c not in _NOT_CURVES and _has_numbers(history[c])]
    groups = []
    for title, stem, belongs in _GROUPS:
        columns = [c for c in remaining if belongs(c)]
        remaining = [c for c in remaining if c not in columns]
        if stem == "validation":
            psnr = [c for c in columns if "psnr" in c]
            if psnr:
                groups.append(("Validation PSNR (dB)", "validation_psnr", psnr))
            columns = [c for c in columns if c not in psnr]
        if columns:
            groups.append((title, stem, columns))
    return groups


def plot_curves(history, columns: Sequence[str], path, title: str) -> dict:
    """Draw `columns` against the epoch into a PNG at `path`.

    Returns:
        `{column: (epochs, values)}` as drawn (read back from the plotted lines; epochs
        with no value are gaps).
    """
    from matplotlib.figure import Figure  # no pyplot: no global backend, no display
    from matplotlib.ticker import MaxNLocator

    epochs = health.epochs_of(history)
    figure = Figure(figsize=(7.0, 3.6), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    drawn, lines = {}, {}
    for column in columns:
        values = np.asarray(history[column], np.float64)
        # A total equal to its only term (pix2pix's d_loss and d_adv) is one line with
        # both names, not two lines drawn exactly over each other.
        same = next((c for c in lines if np.array_equal(history[c], values, equal_nan=True)), None)
        if same is not None:
            lines[same].set_label(f"{lines[same].get_label()} = {column}")
            drawn[column] = drawn[same]
            continue
        marker = "o" if len(values) <= _MAX_POINTS_WITH_MARKERS else None
        (line,) = axes.plot(epochs, values, marker=marker, markersize=3, label=column)
        lines[column] = line
        drawn[column] = (
            [float(x) for x in line.get_xdata()],
            [float(y) for y in line.get_ydata()],
        )
    axes.set_title(title)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # no ticks at epoch 1.5
    axes.set_xlabel("epoch")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small")
    figure.savefig(path)
    return drawn


def latest_samples(folder, count: int = 4) -> list[Path]:
    """The most recent sample grids in `folder`.

    Grids are ordered by the last number in their name (`epoch_0012.png`,
    `step-5000_a2b.png`), then by modification time; the latest `count` are returned,
    oldest first.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    from i2i.imageio import list_images

    def key(path: Path):
        numbers = re.findall(r"\d+", path.stem)
        return (int(numbers[-1]) if numbers else -1, path.stat().st_mtime, path.name)

    return sorted(list_images(folder), key=key)[-count:] if count > 0 else []


# --------------------------------------------------------------------------- helpers


def _read_log(path: Path) -> dict[str, list[float]]:
    if not path.exists():
        return {}
    try:
        return health.read_history(path)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ReportError(f"{path}: cannot read the training log ({error})") from None


def _read_config(path: Path):
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ReportError(f"{path}: cannot read the run config ({error})") from None


def _has_numbers(values) -> bool:
    return any(math.isfinite(v) for v in values)


def _copy_samples(samples: list[Path], out_dir: Path) -> list[Path]:
    target = out_dir / "samples"
    if target.exists():
        shutil.rmtree(target)  # only the grids of this report, not those of older ones
    copies = []
    for sample in samples:
        target.mkdir(parents=True, exist_ok=True)
        copies.append(Path(shutil.copy2(sample, target / sample.name)))
    return copies


def _format(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:.4g}"


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
.warning { background: #fff3cd; border-left: 4px solid #e0a800; padding: .5em .8em;
           margin: .4em 0; }
.ok { color: #2e7d32; } .missing { color: #777; font-style: italic; }
img { max-width: 100%; border: 1px solid #ddd; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: .9em; }
table { border-collapse: collapse; } td, th { padding: .2em .8em; border-bottom: 1px solid #eee; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f8fa; padding: 1em; overflow-x: auto; font-size: .85em; }
"""


def _page(run_dir: Path, history, config, report: Report, out_dir: Path) -> str:
    escape = html.escape
    task = config.get("task") if isinstance(config, dict) else None
    name = run_dir.resolve().name
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>i2i run report: {escape(name)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Run report: {escape(name)}</h1>",
        f"<p>{escape(str(run_dir))}"
        + (f" · task <b>{escape(str(task))}</b>" if task else "")
        + f" · {len(health.epochs_of(history)) if history else 0} epochs logged"
        + f" · generated {now}</p>",
        "<h2>Training health</h2>",
    ]
    if not history:
        parts.append('<p class="missing">No log.csv yet: nothing to check.</p>')
    elif report.warnings:
        parts += [f'<div class="warning">⚠ {escape(w.message)}</div>' for w in report.warnings]
    else:
        parts.append(
            '<p class="ok">No warnings: no discriminator collapse, no diverging '
            "adversarial loss, no sign of mode collapse in what was logged.</p>"
        )

    parts.append("<h2>Curves</h2>")
    if not report.figures:
        parts.append('<p class="missing">No logged values (log.csv missing or empty).</p>')
    for file_name in report.figures:
        columns = ", ".join(report.figures[file_name])
        parts.append(
            f'<figure><img src="{escape(file_name)}" alt="{escape(columns)}">'
            f"<figcaption>{escape(columns)}</figcaption></figure>"
        )

    if history:
        epochs = health.epochs_of(history)
        columns = [c for c in history if c not in _NOT_CURVES]
        parts.append(f"<h2>Last epoch ({epochs[-1]})</h2><table>")
        parts += [
            f'<tr><th>{escape(c)}</th><td class="number">{_format(history[c][-1])}</td></tr>'
            for c in columns
        ]
        parts.append("</table>")

    parts.append("<h2>Latest samples</h2>")
    if not report.samples:
        parts.append('<p class="missing">No sample grids in samples/.</p>')
    for sample in report.samples:
        relative = sample.relative_to(out_dir).as_posix()
        parts.append(
            f'<figure><img src="{escape(relative)}" alt="{escape(sample.name)}">'
            f"<figcaption>{escape(sample.name)}</figcaption></figure>"
        )

    parts.append("<h2>Config</h2>")
    if config is None:
        parts.append('<p class="missing">No config.json.</p>')
    else:
        parts.append(f"<pre>{escape(json.dumps(config, indent=2, sort_keys=True))}</pre>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
