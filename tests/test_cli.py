"""The CLI skeleton: help and version work, and never import TensorFlow."""

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from i2i import __version__
from i2i.cli import cli


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_lists_usage():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_help_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from i2i.cli import main\n"
        "sys.argv = ['i2i', '--help']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'cv2') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_console_script_is_installed():
    # The script sits beside the interpreter of the environment the package is installed in.
    script = Path(sys.executable).parent / "i2i"
    result = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
    assert __version__ in result.stdout
