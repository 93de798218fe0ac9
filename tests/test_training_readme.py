"""The README's "Training options" commands parse with the real `i2i train` CLI."""

import re
import shlex
from pathlib import Path

import click
import pytest

from i2i.cli import cli

README = Path(__file__).resolve().parents[1] / "README.md"


def section_commands() -> list[list[str]]:
    text = README.read_text()
    start = text.index("## Training options")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end > 0 else len(text)]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [shlex.split(line) for block in blocks for line in block.splitlines() if line.strip()]


def test_the_training_section_commands_parse(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    commands = section_commands()
    assert len(commands) >= 5
    train = cli.commands["train"]
    for words in commands:
        assert words[:2] == ["i2i", "train"], words
        name, args = words[2], words[3:]
        if name not in train.commands:
            pytest.skip(f"`i2i train {name}` is not registered yet")
        for flag, value in zip(args, args[1:], strict=False):
            if flag == "--data":
                Path(value).mkdir(parents=True, exist_ok=True)
        context = train.commands[name].make_context(name, list(args))
        assert isinstance(context, click.Context)
        shared = {"out", "epochs", "steps", "precision", "strategy", "resume", "assignments"}
        assert shared <= set(context.params)
