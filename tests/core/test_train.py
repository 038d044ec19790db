import json
import shutil

import pytest
import torch
from safetensors import safe_open

from recognize.core.config import load_recipe
from recognize.core.modelfile import ModelFileError, load_model, read_metadata
from recognize.core.train import run_origin, train

from helpers import TINY_RECIPE
from helpers import tiny_recipe as recipe


def test_overfits_tiny_set(tiny_model, tiny_data):
    from recognize.core.metrics import error_rates
    from recognize.ocr.dataset import find_pairs
    from recognize.ocr.predict import prepare, recognize
    m = load_model(tiny_model)
    pairs = find_pairs(tiny_data / "train")
    hyps = recognize(m, [prepare(p, 32) for p, _ in pairs])
    assert error_rates([t for _, t in pairs], [h.text for h in hyps]).cer < 0.02


def test_model_file_is_self_describing(tiny_model):
    meta = read_metadata(tiny_model)
    assert meta["task"] == "ocr" and meta["preprocess"] == {"height": 32}
    assert meta["recipe"]["model"]["rnn"]["hidden"] == 64
    assert meta["training"]["command"] and meta["training"]["data"]["train_samples"] == 40
    assert "cer" in meta["metrics"]["valid"]
    with safe_open(str(tiny_model), framework="pt") as f:  # plain safetensors: no pickled code
        assert all(f.get_tensor(k).dtype in (torch.float32, torch.int64) for k in f.keys())
    m = load_model(tiny_model)
    assert len(m.vocab) == m.net.num_classes and not m.net.training


def test_damaged_model_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00garbage")
    with pytest.raises(ModelFileError, match="not a recognize model file"):
        load_model(bad)
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "missing.safetensors")


def _weights(path):
    return {k: v.clone() for k, v in torch.load(path, weights_only=True)["model"].items()}


def test_resume_continues_exactly(tiny_data, tmp_path):
    r = recipe(tiny_data, "train.epochs=2", "train.checkpoint_every=3", "train.deterministic=true",
               "model.rnn.dropout=0.2", "data.augment=true")
    full = train(r, tmp_path / "full", cache_dir=tmp_path / "c")
    part = tmp_path / "part"
    train(r, part, cache_dir=tmp_path / "c", max_steps=7, command="recognize train first")  # stops mid-epoch 2
    assert torch.load(part / "last.ckpt", weights_only=True)["step"] == 7
    resumed = train(r, part, resume=part / "last.ckpt", cache_dir=tmp_path / "c", command="recognize train again")
    assert resumed.steps == full.steps
    training = read_metadata(part / "model.safetensors")["training"]  # the model still says how it was made
    assert (training["command"], training["resumed"]) == ("recognize train first", ["recognize train again"])
    a, b = _weights(tmp_path / "full" / "last.ckpt"), _weights(part / "last.ckpt")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)


def test_resume_of_an_older_checkpoint_takes_the_origin_from_the_runs_model_file(tiny_model, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(tiny_model, run / "model.safetensors")
    first = read_metadata(tiny_model)["training"]["command"]
    origin = run_origin({"step": 3}, run, "recognize train --resume x", None)  # no "origin" in the checkpoint
    assert origin["command"] == first and origin["resumed"] == ["recognize train --resume x"]


def test_init_from_grows_vocabulary(tiny_model, tmp_path):
    from helpers import write_lines
    write_lines(tmp_path / "new", ["zebra quiz", "jazz"])
    r = load_recipe(TINY_RECIPE, [
        f"data.train=[{{kind: folder, path: '{tmp_path / 'new'}'}}]", "train.epochs=1"])
    base = load_model(tiny_model)
    out = train(r, tmp_path / "ft", init_from=tiny_model, cache_dir=tmp_path / "c")
    ft = load_model(out.model_path)
    assert ft.vocab.tokens[: len(base.vocab)] == base.vocab.tokens
    hist = [json.loads(line) for line in open(tmp_path / "ft" / "history.jsonl")]
    assert hist[-1]["epoch"] == 1


def test_a_damaged_training_file_is_skipped_and_reported(tiny_data, tmp_path, caplog):
    import shutil
    data = tmp_path / "data"
    shutil.copytree(tiny_data / "train", data)
    broken = data / "line005.png"
    broken.write_bytes(broken.read_bytes()[:60])  # header survives (listing works), pixels do not
    r = load_recipe(TINY_RECIPE, [
        f"data.train=[{{kind: folder, path: '{data}'}}]", "train.epochs=1"])
    result = train(r, tmp_path / "run", cache_dir=tmp_path / "c")
    assert result.steps > 0 and result.model_path.exists()
    assert "line005.png: skipped, cannot be loaded" in caplog.text
