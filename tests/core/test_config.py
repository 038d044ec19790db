import pytest

from recognize.core.config import ConfigError, load_recipe

from conftest import ROOT


def test_defaults_and_overrides():
    r = load_recipe(None, ["train.lr=0.02", "model.rnn.cell=gru", "model.frontend.blocks.0.channels=7"])
    assert r.train.lr == 0.02 and r.model.rnn.cell == "gru"
    assert r.model.frontend.blocks[0].channels == 7


def test_unknown_key_suggests_the_closest():
    with pytest.raises(ConfigError, match=r"did you mean 'train.epochs'"):
        load_recipe(None, ["train.epoch=3"])
    with pytest.raises(ConfigError, match=r"'model.rnn.hiden'.*'model.rnn.hidden'"):
        load_recipe(None, ["model.rnn.hiden=3"])


def test_type_errors_are_reported():
    with pytest.raises(ConfigError, match="train.epochs: expected int"):
        load_recipe(None, ["train.epochs=many"])


@pytest.mark.parametrize("recipe", sorted((ROOT / "recipes").glob("*.yaml")))
def test_shipped_recipes_are_valid(recipe):
    r = load_recipe(recipe)
    assert r.task and r.data.train
