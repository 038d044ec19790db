"""The speech task's hooks into the core: augmentation settings from the recipe."""
import pytest

from recognize.core.config import DataConfig
from recognize.speech import task


def test_augment_options_come_from_the_recipe():
    task.prepare_training(DataConfig(augment_options={"reverb_p": 0.3, "speed": [0.8, 1.2]}), {})
    assert task._AUGMENT[0].reverb_p == 0.3 and task._AUGMENT[0].speed == (0.8, 1.2)
    with pytest.raises(ValueError, match="unknown key 'reverb'"):
        task.prepare_training(DataConfig(augment_options={"reverb": 0.3}), {})
    task.prepare_training(DataConfig(), {})
    assert task._AUGMENT[0].reverb_p == 0.0
