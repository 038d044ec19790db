import pytest
import torch

from recognize.core.average import average_models
from recognize.core.modelfile import ModelFileError, load_model, read_metadata, save_model
from recognize.core.train import train

from helpers import tiny_recipe as recipe


@pytest.fixture(scope="module")
def run(tiny_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("avg") / "run"
    train(recipe(tiny_data, "train.epochs=3", "train.keep_epochs=true"), out, cache_dir=out.parent / "c")
    return out


def test_keep_epochs_writes_a_model_per_epoch(run):
    kept = sorted((run / "epochs").glob("epoch-*.safetensors"))
    assert [p.name for p in kept] == ["epoch-01.safetensors", "epoch-02.safetensors", "epoch-03.safetensors"]
    assert [read_metadata(p)["training"]["epochs"] for p in kept] == [1, 2, 3]


def test_average_is_the_mean_of_the_weights(run):
    kept = sorted((run / "epochs").glob("epoch-*.safetensors")) + [run / "last.ckpt"]
    net, vocab, meta = average_models(kept)
    states = [load_model(p, for_training=True).net.state_dict() for p in kept[:3]]
    states.append(torch.load(run / "last.ckpt", weights_only=True)["model"])
    for k, v in net.state_dict().items():
        if v.is_floating_point():
            torch.testing.assert_close(v, sum(s[k] for s in states) / 4, msg=k)
    assert [s["file"] for s in meta["averaged_from"]] == [str(p) for p in kept]
    assert meta["training"]["epochs"] == 3 and "metrics" not in meta  # the last model file's origin
    save_model(run / "avg.safetensors", net, vocab, meta)  # a model like any other
    assert load_model(run / "avg.safetensors").vocab == vocab


def test_average_of_a_model_with_itself_changes_nothing(run):
    p = run / "epochs" / "epoch-02.safetensors"
    net, _, _ = average_models([p, p])
    ref = load_model(p, for_training=True).net.state_dict()
    for k, v in net.state_dict().items():
        torch.testing.assert_close(v, ref[k], rtol=0, atol=1e-7, msg=k)


def test_models_of_other_runs_are_refused(run, tiny_data, tmp_path):
    other = tmp_path / "other"
    train(recipe(tiny_data, "train.epochs=1", "model.rnn.hidden=32"), other, cache_dir=tmp_path / "c")
    with pytest.raises(ModelFileError, match="architecture differs"):
        average_models([run / "model.safetensors", other / "model.safetensors"])
