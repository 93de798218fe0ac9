"""`i2i train srgan` end to end: the README's two-stage workflow on tiny real photos.

The README section's commands run as written, each with tiny-size options appended
(later options win): stage 1 (`i2i train srresnet`), stage 2 from its run directory,
a resume, and `i2i upscale` with the result. The machine has no VGG19 weights (HOME and
KERAS_HOME point into the test folder), so stage 2 falls back to L1 and must say so.
"""

import csv
import json
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from i2i import config, imageio, training, zoo
from i2i.cli import cli
from i2i.losses import VGG19_NOTOP_FILE
from i2i.tasks.srgan import SRGANOptions, SRGANTask

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## SRGAN: adversarial fine-tuning"
DATA = ["--set", "patch_size=32", "--set", "val_size=32", "--set", "patches_per_image=2"]
TINY = {
    "srresnet": ["--steps", "2", "--batch-size", "2", "--set", "steps_per_epoch=1",
                 "--set", "num_blocks=1", "--set", "filters=8", *DATA],
    "srgan": ["--steps", "2", "--batch-size", "2", "--set", "steps_per_epoch=1",
              "--set", "discriminator_filters=4", "--set", "ema_decay=0.5", *DATA],
    "resume": ["--steps", "3"],
    "upscale": ["-q"],
}  # fmt: skip


def section_commands() -> list[str]:
    text = README.read_text()
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end > 0 else len(text)]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.startswith("i2i ")]


def invoke(args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


def tiny_args(words: list[str]) -> list[str]:
    if words[1] == "upscale":
        return TINY["upscale"]
    if "--resume" in words:
        return TINY["resume"]
    return TINY[words[2]]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, photos):
    """A folder where the README's commands ran: photos/, runs/sr_x4, runs/srgan_x4."""
    root = tmp_path_factory.mktemp("srgan")
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        image = photos[name]
        h, w = image.shape[0] // 2, image.shape[1] // 2
        imageio.write_image(
            root / "photos" / f"{name}.png", image[h - 32 : h + 32, w - 32 : w + 32]
        )
    outputs = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("HOME", str(root / "home"))
        patch.setenv("KERAS_HOME", str(root / "home" / "keras"))
        if (Path("/tmp/.keras/models") / VGG19_NOTOP_FILE).exists():
            pytest.skip("VGG19 weights are in /tmp/.keras/models on this machine")
        for command in section_commands():
            words = shlex.split(command)
            result = invoke(words[1:] + tiny_args(words))
            assert result.exit_code == 0, f"{command}\n{result.output}"
            outputs[command] = result.output
    return root, outputs


def test_the_readme_commands_run(workspace):
    root, outputs = workspace
    commands = list(outputs)
    assert [shlex.split(c)[1:3] for c in commands] == [
        ["train", "srresnet"], ["train", "srgan"], ["train", "srgan"], ["upscale", "photos/"],
    ]  # fmt: skip
    run = root / "runs" / "srgan_x4"
    for name in ("generator.keras", "generator.json", "init/generator.keras",
                 "best_psnr/generator.keras", "samples/epoch-0001.png"):  # fmt: skip
        assert (run / name).is_file(), name
    upscaled = imageio.read_image(root / "sharp" / "astronaut.png")
    assert upscaled.shape == (256, 256, 3)


def test_stage2_starts_from_stage1_and_validates_against_bicubic(workspace):
    root, outputs = workspace
    stage2 = outputs[section_commands()[1]]
    assert f"generator initialized from {root / 'runs' / 'sr_x4'}" in stage2
    run = root / "runs" / "srgan_x4"
    cfg = config.read(run / "config.json", SRGANOptions)
    assert cfg.task == "srgan" and cfg.model.scale == 4
    assert cfg.model.init_from == str(root / "runs" / "sr_x4")
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    for row in rows:
        for name in ("g_content", "g_adv", "d_adv", "val_psnr", "val_ssim", "val_psnr_bicubic"):
            assert np.isfinite(float(row[name])), name
    # The adversarial term carries the paper's 1e-3 weight (vanilla loss ~ log 2 at start).
    assert 1e-4 < float(rows[0]["g_adv"]) < 1e-2
    card = json.loads((run / "generator.json").read_text())
    assert card["task"] == "super-resolution" and card["scale"] == 4
    assert card["architecture"]["name"] == "srresnet" and card["architecture"]["filters"] == 8
    assert card["training"]["stage"].startswith("srgan")
    assert card["validation"]["epoch"] == 3 and "psnr_bicubic" in card["validation"]


def test_l1_fallback_is_announced_without_vgg_weights(workspace):
    root, outputs = workspace
    stage2 = outputs[section_commands()[1]]
    assert "i2i: WARNING: content loss: L1 instead of VGG54" in stage2
    assert VGG19_NOTOP_FILE in stage2
    card = json.loads((root / "runs" / "srgan_x4" / "generator.json").read_text())
    assert card["training"]["content_loss"] == "l1"
    assert "L1 instead of VGG54" in card["training"]["content_note"]


def test_resume_continues_the_run(workspace):
    root, outputs = workspace
    resumed = outputs[section_commands()[2]]
    assert "resumed from" in resumed and "(epoch 2, step 2)" in resumed
    record = training.latest_checkpoint(root / "runs" / "srgan_x4")
    assert record["epoch"] == 3 and record["step"] == 3


def test_exported_generator_holds_the_ema_weights(workspace, monkeypatch):
    root, _ = workspace
    run = root / "runs" / "srgan_x4"
    monkeypatch.chdir(root)
    cfg = config.read(run / "config.json", SRGANOptions)
    cfg = config.replace_model(cfg, content="l1")  # the loss does not change the weights
    task = SRGANTask()
    model = task.build_model(cfg)
    training.load_state(model, run / "checkpoints" / training.latest_checkpoint(run)["dir"])
    exported, card = zoo.load_generator(run)
    assert card["training"]["weights"] == "EMA of the generator"
    ema = model.ema_weights()
    assert ema is not None
    for saved, average in zip(exported.get_weights(), ema, strict=True):
        np.testing.assert_array_equal(saved, average)
    raw = model.generator.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(raw, ema, strict=True))


def test_a_bad_init_is_one_line(workspace, tmp_path):
    root, _ = workspace
    result = invoke(["train", "srgan", "--data", root / "photos", "--init", tmp_path / "nope",
                     "--out", tmp_path / "run"])  # fmt: skip
    assert result.exit_code == 1 and "--init" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
    result = invoke(["train", "srgan", "--out", tmp_path / "run"])
    assert result.exit_code == 2 and "--data and --init are required" in result.output


def test_resume_in_a_copy_needs_no_init(workspace, tmp_path, monkeypatch):
    # The run keeps its own copy of the init generator: moving the stage-1 run is fine.
    root, _ = workspace
    run = tmp_path / "moved"
    shutil.copytree(root / "runs" / "srgan_x4", run)
    cfg = config.read(run / "config.json", SRGANOptions)
    config.write(config.replace_model(cfg, init_from=str(tmp_path / "gone")), run / "config.json")
    monkeypatch.chdir(root)
    generator, card = SRGANTask()._init_generator(config.replace(cfg, out=str(run)))
    assert card["scale"] == 4 and generator.count_params() > 0


def test_stage2_of_an_unshuffled_compact_net_keeps_its_stride(workspace, tmp_path):
    # The generator's stride comes from stage 1's card, not from SRGAN's own options.
    from i2i.nets.compact import compact

    root, _ = workspace
    architecture = {"name": "compact", "scale": 2, "num_conv": 1, "filters": 4, "unshuffle": 2}
    stage1 = tmp_path / "stage1.keras"
    card = {"task": "super-resolution", "scale": 2, "value_range": [0.0, 1.0], "stride": 2,
            "architecture": architecture}  # fmt: skip
    zoo.save_generator(compact(**{k: v for k, v in architecture.items() if k != "name"}),
                       stage1, card)  # fmt: skip
    options = SRGANOptions(data=str(root / "photos"), init_from=str(stage1), scale=2,
                           patch_size=34, val_size=32, discriminator_filters=4)  # fmt: skip
    run = config.RunOptions(out=str(tmp_path / "bad"), steps=2, batch_size=2, verbose=0)
    cfg = config.Config(task="srgan", run=run, model=options)
    with pytest.raises(training.TrainingError, match="patch_size 34 is not a multiple of 4"):
        training.run(SRGANTask(), cfg)
    good = config.replace_model(config.replace(cfg, out=str(tmp_path / "run")), patch_size=32)
    training.run(SRGANTask(), good)
    assert json.loads((tmp_path / "run" / "generator.json").read_text())["stride"] == 2
