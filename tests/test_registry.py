"""i2i.registry: explicit tables, lazy imports, clear errors."""

import subprocess
import sys

import pytest

from i2i import registry

TABLES = {
    "GANS": registry.GANS,
    "NETS": registry.NETS,
    "ADVERSARIAL_LOSSES": registry.ADVERSARIAL_LOSSES,
}


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match=r"unknown name 'nope' \(known: a, b\)"):
        registry.resolve({"a": "os:sep", "b": "os:getcwd"}, "nope")


def test_resolve_imports_the_attribute():
    import os

    assert registry.resolve({"join": "os.path:join"}, "join") is os.path.join


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_registered_name_resolves(table):
    for name in TABLES[table]:
        assert registry.resolve(TABLES[table], name) is not None, name


def test_registry_imports_without_tensorflow():
    code = "import sys, i2i.registry; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
