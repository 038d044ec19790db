import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
torch.set_num_threads(2)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """40 training and 10 validation lines rendered with DejaVu Sans."""
    from helpers import sentences, write_lines
    root = tmp_path_factory.mktemp("tiny")
    write_lines(root / "train", sentences(40, 1))
    write_lines(root / "valid", sentences(10, 2))
    return root


@pytest.fixture(scope="session")
def tiny_model(tiny_data, tmp_path_factory):
    """A tiny OCR model overfitted on the training lines (about 20 s on 2 cores)."""
    from recognize.core.config import load_recipe
    from recognize.core.train import train
    out = tmp_path_factory.mktemp("run")
    recipe = load_recipe(ROOT / "tests" / "tiny_recipe.yaml", [
        f"data.train=[{{kind: folder, path: '{tiny_data / 'train'}'}}]",
        f"data.valid=[{{kind: folder, path: '{tiny_data / 'train'}'}}]",
        "train.epochs=45", "train.patience=100"])
    result = train(recipe, out, command="pytest tiny_model", cache_dir=out / "cache")
    return result.model_path
