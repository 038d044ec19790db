"""The omr task inside the shared training loop: generated incipits -> a model file -> recognize omr."""
import pytest
from typer.testing import CliRunner

from recognize.cli import app
from recognize.core.config import load_recipe
from recognize.core.modelfile import read_metadata
from recognize.core.train import train
from recognize.tasks import get_task

runner = CliRunner()


def test_synth_source_trains_a_model_that_the_cli_runs(tmp_path):
    recipe = load_recipe(None, [
        "task=omr", "name=tiny-omr",
        "model.frontend.height=32", "model.frontend.blocks=[{channels: 4, pool: [2, 2]}, {channels: 8, pool: [2, 2]}]",
        "model.rnn.hidden=16", "model.rnn.layers=1",
        "data.preprocess={height: 32, encoding: semantic}", "data.augment_options={camera: 0.5}",
        "data.train=[{kind: synth, count: 6, seed: 5, options: {workers: 1, distorted: true}}]",
        "data.valid=[{kind: synth, count: 2, seed: 6, options: {workers: 1}}]",
        "train.epochs=1", "train.workers=0", "train.max_batch=4", "train.batch_budget=200000"])
    result = train(recipe, tmp_path / "run", command="pytest", cache_dir=tmp_path / "cache")
    meta = read_metadata(result.model_path)
    assert meta["task"] == "omr" and meta["preprocess"] == {"height": 32, "encoding": "semantic"}
    assert "clef-G2" in meta["vocab"]["tokens"] or any(t.startswith("clef-") for t in meta["vocab"]["tokens"])
    assert meta["vocab"]["tokenizer"] == "whitespace"
    cache = tmp_path / "cache" / "omr-synth" / "seed5-distorted"
    assert len(list(cache.glob("*/*_distorted.jpg"))) == 6  # both images of each incipit were trained on
    image = next(cache.glob("*/*.png"))
    r = runner.invoke(app, ["omr", str(image), "-m", str(result.model_path), "-f", "json", "--device", "cpu"])
    assert r.exit_code == 0, r.output


def test_recipe_errors_are_named(tmp_path):
    task = get_task("omr")
    with pytest.raises(ValueError, match="encoding must be one of"):
        task.prepare_training(load_recipe(None, ["task=omr"]).data, {"height": 64, "encoding": "kern"})
    with pytest.raises(ValueError, match="unknown key 'blur'"):
        task.prepare_training(load_recipe(None, ["task=omr", "data.augment_options={blur: 1}"]).data,
                              {"height": 64, "encoding": "semantic"})
    with pytest.raises(ValueError, match="primus or synth"):
        from recognize.core.config import DataSource
        task.items(DataSource(kind="folder"), {"height": 64, "encoding": "semantic"}, tmp_path)


def test_synth_source_gives_either_encoding(tmp_path):
    from recognize.core.config import DataSource
    task = get_task("omr")
    src = DataSource(kind="synth", count=3, seed=8, options={"workers": 1})
    sem = task.items(src, {"height": 64, "encoding": "semantic"}, tmp_path)
    agn = task.items(src, {"height": 64, "encoding": "agnostic"}, tmp_path)
    assert [a.key for a in sem] == [b.key for b in agn] and len(sem) == 3
    assert all(it.text.startswith("clef-") and it.length > 64 for it in sem)
    assert all(it.text.startswith("clef.") for it in agn)


def test_synth_source_with_emphasis_has_its_own_cache_and_opens_with_multirests(tmp_path):
    from recognize.core.config import DataSource
    task = get_task("omr")
    src = DataSource(kind="synth", count=3, seed=8, options={"workers": 1, "multirest": 1.0})
    items = task.items(src, {"height": 64, "encoding": "semantic"}, tmp_path)
    assert [p.name for p in (tmp_path / "omr-synth").iterdir()] == ["seed8-multirest1"]
    assert len(items) == 3 and all(it.text.split()[3].startswith("multirest-") for it in items)
