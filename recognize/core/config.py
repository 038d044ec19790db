"""Recipes: YAML files merged with ``--set key=value`` overrides into typed dataclasses.

Unknown keys are an error that names the closest valid key; the resolved recipe is saved inside
every model trained from it.
"""
from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .model import ModelConfig


class ConfigError(ValueError):
    """A recipe or override that does not fit the schema."""


@dataclass
class DataSource:
    """One source of samples. ``kind`` is task-specific (``folder``, ``synth``, ``manifest``, ...)."""

    kind: str = "folder"
    path: str = ""
    count: int = 0       # synth: number of samples; folder: 0 = all
    seed: int = 0
    weight: float = 1.0  # relative sampling weight per epoch (1 = each sample once)
    options: dict = field(default_factory=dict)


@dataclass
class DataConfig:
    train: list[DataSource] = field(default_factory=list)
    valid: list[DataSource] = field(default_factory=list)
    augment: bool = True
    augment_options: dict = field(default_factory=dict)  # task-specific probabilities/ranges, checked by the task
    preprocess: dict = field(default_factory=dict)  # task-specific, checked by the task


@dataclass
class TrainConfig:
    epochs: int = 20
    lr: float = 1e-3
    weight_decay: float = 1e-2
    schedule: str = "onecycle"     # onecycle | cosine | constant
    warmup: float = 0.05           # share of steps for warm-up
    batch_budget: int = 400_000    # padded input units (pixels or frames x bins) per batch
    max_batch: int = 64
    clip: float = 5.0
    patience: int = 5              # epochs without validation improvement before stopping
    seed: int = 1
    workers: int = 1
    checkpoint_every: int = 500    # steps
    log_every: int = 50
    device: str = "auto"
    threads: int = 0               # 0 = torch default
    deterministic: bool = False
    amp: str = "auto"              # auto (bf16 on a GPU, none on CPU) | none | bf16 | fp16; CTC stays fp32
    cudnn_ctc: bool = True         # cuDNN's CTC kernel for batches that meet its conditions
    bucketing: bool = True         # length-bucketed batches under batch_budget; false: random batches of max_batch
    pad_to: int = 0                # pad batch widths to a multiple of this (0 = auto: 64 on a GPU, 1 on CPU)
    autotune: bool = False         # cudnn.benchmark on a GPU: times each new batch shape once (6.5-16x slower over
                                   # the recipes' first 35 steps on an H200; see README, Training at scale)
    channels_last: bool = False    # NHWC convolutions on a GPU too (the CPU always uses them); unmeasured there
    prefetch: int = 4              # batches each data worker prepares ahead
    keep_epochs: bool = False      # also write epochs/epoch-NN.safetensors after each epoch (for `recognize average`)


@dataclass
class Recipe:
    task: str = "ocr"
    name: str = "model"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _suggest(key: str, valid: typing.Iterable[str], where: str = "") -> str:
    close = difflib.get_close_matches(key, list(valid), n=1)
    return f" (did you mean {(where + '.' if where else '') + close[0]!r}?)" if close else ""


def build(cls, data, where: str = ""):
    """Build dataclass ``cls`` from plain data, rejecting unknown keys with a suggestion."""
    if not dataclasses.is_dataclass(cls):
        return data
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'recipe'}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else key
        if key not in names:
            raise ConfigError(f"unknown key {path!r}{_suggest(key, names, where)}")
        kwargs[key] = _coerce(hints[key], value, path)
    return cls(**kwargs)


def _coerce(tp, value, path: str):
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, path)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        tp = next(a for a in args if a is not type(None))
        return _coerce(tp, value, path)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list")
        return [_coerce(args[0], v, f"{path}.{i}") for i, v in enumerate(value)]
    if origin is tuple:
        return tuple(value)
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp in (int, str, bool) and not isinstance(value, tp):
        if tp is int and isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{path}: expected {tp.__name__}, got {value!r}")
    return value


def set_path(data: dict, dotted: str, value) -> None:
    """Set ``a.b.0.c`` inside nested dicts/lists, creating dicts as needed."""
    parts = dotted.split(".")
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            try:
                idx = int(part)
                node[idx]
            except (ValueError, IndexError):
                raise ConfigError(f"{dotted}: {part!r} is not an index of a {len(node)}-item list") from None
            if last:
                node[idx] = value
            else:
                node = node[idx]
        else:
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})


def parse_overrides(items: list[str]) -> list[tuple[str, object]]:
    out = []
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        key, raw = item.split("=", 1)
        out.append((key.strip(), yaml.safe_load(raw) if raw.strip() else ""))
    return out


def load_recipe(path: str | Path | None, overrides: list[str] = ()) -> Recipe:
    """Read a YAML recipe (or the defaults), apply ``key=value`` overrides and validate."""
    data: dict = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such recipe file")
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a recipe must be a YAML mapping")
    defaults = Recipe().to_dict()
    merged = _deep_merge(defaults, data)
    for key, value in parse_overrides(list(overrides)):
        set_path(merged, key, value)
    # blocks replaced wholesale by a recipe must not inherit stale defaults
    return build(Recipe, merged)


def _deep_merge(base: dict, new: dict) -> dict:
    out = dict(base)
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def to_yaml(recipe: Recipe) -> str:
    return yaml.safe_dump(recipe.to_dict(), sort_keys=False, allow_unicode=True)
