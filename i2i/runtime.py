"""How the command line starts TensorFlow: quietly, once, and saying on what device.

TensorFlow's C++ start-up writes lines to stderr that read like errors on a machine
without a GPU (`Could not find cuda drivers`, `failed call to cuInit: ... (303)`), and
some are written before TensorFlow reads `TF_CPP_MIN_LOG_LEVEL`, so the variable alone
cannot silence them. `start(verbose)`, called by the `i2i` group before any command
runs, does three things:

- sets `TF_CPP_MIN_LOG_LEVEL=2` (no INFO or WARNING lines from TensorFlow's C++),
  unless the user set the variable or passed `--verbose`;
- arranges that the first `import tensorflow` (wherever a command does it: TensorFlow
  and Keras stay lazy, so commands that do not need them never pay for them) runs with
  stderr captured, together with the device search; the start-up noise is dropped and
  every other line is written back. It also prints what TensorFlow found, once, in
  i2i's words (`device: CPU (no GPU found)`);
- makes that import and the process exit cheaper: matplotlib, which Keras imports for
  its own image-gallery plots only, is kept out of the import (i2i imports it itself
  where it draws); the garbage collector is paused during the import and the objects
  that exist afterwards are frozen (`gc.freeze`), so neither later collections nor the
  interpreter's exit walk TensorFlow's hundreds of thousands of module objects.

Python code that imports i2i as a library is not affected: only the CLI calls `start`.

Example:

```python
from i2i import runtime

runtime.start(verbose=False)
import tensorflow as tf  # quiet; prints "device: CPU (no GPU found)" on a CPU machine
```
"""

from __future__ import annotations

import gc
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

LOG_LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
# TensorFlow's start-up lines on stderr that say nothing a user can act on.
_NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\)"
    r"|cudart_stub\.cc|cuda_platform\.cc|cuda_executor\.cc|cuda_diagnostics\.cc"
    r"|cpu_feature_guard\.cc|To enable the following instructions"
    r"|Unable to register cu(DNN|FFT|BLAS) factory|computation_placer\.cc"
    r"|TF-TRT Warning|oneDNN custom operations are on"
)
# Imported by Keras at start-up for plotting helpers i2i never calls.
_NOT_AT_START = ("matplotlib",)


def start(verbose: bool = False) -> None:
    """Prepare the process for a lazy, quiet TensorFlow start (idempotent).

    Args:
        verbose: leave TensorFlow's own log lines as they are.
    """
    quiet = not verbose and LOG_LEVEL_VARIABLE not in os.environ
    if quiet:
        os.environ[LOG_LEVEL_VARIABLE] = "2"
    if "tensorflow" in sys.modules:
        return
    for finder in sys.meta_path:
        if isinstance(finder, _TensorFlowStart):
            finder.quiet = quiet
            return
    sys.meta_path.insert(0, _TensorFlowStart(quiet))


def describe_device(gpus) -> str:
    """What TensorFlow runs on, in one phrase: `CPU (no GPU found)`, `GPU (1: NAME)`."""
    if not gpus:
        return "CPU (no GPU found)"
    import tensorflow as tf

    names = []
    for gpu in gpus:
        try:
            names.append(tf.config.experimental.get_device_details(gpu).get("device_name"))
        except (ValueError, RuntimeError):
            names.append(None)
    known = sorted({name for name in names if name})
    return f"GPU ({len(gpus)}{': ' + ', '.join(known) if known else ''})"


class _TensorFlowStart(importlib.abc.MetaPathFinder):
    """Runs the first `import tensorflow` quietly, then steps out of the import path."""

    def __init__(self, quiet: bool):
        self.quiet = quiet

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        blocked = [m for m in _NOT_AT_START if m not in sys.modules]
        for module in blocked:
            sys.modules[module] = None  # an ImportError, which Keras handles
        collecting = gc.isenabled()
        gc.disable()
        try:
            with _filtered_stderr(self.quiet):
                tensorflow = importlib.import_module("tensorflow")
                gpus = tensorflow.config.list_physical_devices("GPU")
        finally:
            for module in blocked:
                if sys.modules.get(module, ...) is None:
                    del sys.modules[module]
            if collecting:
                gc.enable()
        gc.freeze()
        sys.stderr.write(f"device: {describe_device(gpus)}\n")
        # The import is done: hand Python the loaded module instead of loading it again.
        return importlib.util.spec_from_loader(name, _Loaded(tensorflow))


class _Loaded(importlib.abc.Loader):
    """A loader for a module that is already imported (its own spec is kept)."""

    def __init__(self, module):
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        module.__spec__ = self.spec  # Python set this finder's spec on it


class _filtered_stderr:
    """Capture file descriptor 2 (C++ writes too) and write back all but the noise."""

    def __init__(self, active: bool):
        self.active = active

    def __enter__(self):
        if not self.active:
            return self
        sys.stderr.flush()
        self.saved = os.dup(2)
        self.capture = tempfile.TemporaryFile()
        os.dup2(self.capture.fileno(), 2)
        return self

    def __exit__(self, *exc):
        if not self.active:
            return False
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.capture.seek(0)
        text = self.capture.read().decode(errors="replace")
        self.capture.close()
        kept = [line for line in text.splitlines(keepends=True) if not _NOISE.search(line)]
        if kept:
            sys.stderr.write("".join(kept))
            sys.stderr.flush()
        return False
