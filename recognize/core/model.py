"""The CTC model every task shares: CNN front-end -> bidirectional RNN stack -> linear CTC head.

Inputs are ``[N, C, H, W]`` feature maps (a text-line or staff image, or a log-mel spectrogram
with frequency as H and time as W) plus each sample's valid width ``lengths [N]``. The front-end
collapses H into features and downsamples W; every sample's output length is computed from its
input length, padding is masked after every block and the RNNs run on packed sequences, so a
sample's output does not depend on the other samples of its batch.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU, "silu": nn.SiLU}


@dataclass
class ConvBlock:
    """conv(kernel, same padding) -> [batch norm] -> activation -> [max-pool(pool)] -> [dropout]."""

    channels: int
    kernel: tuple[int, int] = (3, 3)
    pool: tuple[int, int] = (1, 1)  # (height, width) pooling factor; (1, 1) = none
    dropout: float = 0.0


@dataclass
class FrontendConfig:
    in_channels: int = 1
    height: int = 48  # input height (image rows or mel bins)
    blocks: list[ConvBlock] = field(default_factory=lambda: [
        ConvBlock(32, pool=(2, 2)), ConvBlock(64, pool=(2, 2)), ConvBlock(128, pool=(2, 1)),
        ConvBlock(128, pool=(2, 1))])
    activation: str = "leaky_relu"
    batch_norm: bool = True
    projection: int = 0  # linear size after collapsing height; 0 = no projection


@dataclass
class RNNConfig:
    cell: str = "lstm"  # lstm | gru
    layers: int = 2
    hidden: int = 256  # per direction
    dropout: float = 0.25
    layer_norm: bool = False


@dataclass
class ModelConfig:
    frontend: FrontendConfig = field(default_factory=FrontendConfig)
    rnn: RNNConfig = field(default_factory=RNNConfig)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        fe = dict(d.get("frontend", {}))
        fe["blocks"] = [ConvBlock(**{**b, "kernel": tuple(b.get("kernel", (3, 3))),
                                     "pool": tuple(b.get("pool", (1, 1)))})
                        for b in fe.get("blocks", [])] or FrontendConfig().blocks
        return cls(FrontendConfig(**fe), RNNConfig(**d.get("rnn", {})))


def _mask(x: Tensor, lengths: Tensor) -> Tensor:
    """Zero every column at or beyond each sample's length. x: [N, C, H, W]."""
    cols = torch.arange(x.shape[-1], device=x.device)
    return x * (cols[None, :] < lengths[:, None]).to(x.dtype)[:, None, None, :]


class ConvFrontend(nn.Module):
    """Stack of conv blocks; returns a sequence ``[N, W', features]`` and its lengths."""

    def __init__(self, cfg: FrontendConfig):
        super().__init__()
        self.cfg = cfg
        self.channels_last: bool | None = None  # NHWC activations; None: on the CPU only (train.channels_last)
        layers = nn.ModuleList()
        c, h = cfg.in_channels, cfg.height
        for b in cfg.blocks:
            kh, kw = b.kernel
            parts: list[nn.Module] = [nn.Conv2d(c, b.channels, b.kernel, padding=(kh // 2, kw // 2),
                                                bias=not cfg.batch_norm)]
            if cfg.batch_norm:
                parts.append(nn.BatchNorm2d(b.channels))
            parts.append(ACTIVATIONS[cfg.activation]())
            layers.append(nn.Sequential(*parts))
            c, h = b.channels, h // b.pool[0]
        if h < 1:
            raise ValueError(f"front-end pools the height {cfg.height} down to nothing")
        self.convs = layers
        self.pools = nn.ModuleList(nn.MaxPool2d(b.pool, b.pool) if b.pool != (1, 1) else nn.Identity()
                                   for b in cfg.blocks)
        self.drops = nn.ModuleList(nn.Dropout2d(b.dropout) if b.dropout else nn.Identity()
                                   for b in cfg.blocks)
        self.features = c * h
        self.proj = nn.Linear(self.features, cfg.projection) if cfg.projection else None
        self.out_features = cfg.projection or self.features

    def fuse_batch_norm(self) -> None:
        """Fold each eval-mode batch norm into its conv and make activations in-place (inference only)."""
        from torch.nn.utils.fusion import fuse_conv_bn_eval
        for block in self.convs:
            if len(block) > 1 and isinstance(block[1], nn.BatchNorm2d):
                block[0], block[1] = fuse_conv_bn_eval(block[0], block[1]), nn.Identity()
            for mod in block:
                if hasattr(mod, "inplace"):
                    mod.inplace = True

    @property
    def width_stride(self) -> int:
        s = 1
        for b in self.cfg.blocks:
            s *= b.pool[1]
        return s

    def output_lengths(self, lengths: Tensor) -> Tensor:
        for b in self.cfg.blocks:
            lengths = torch.div(lengths, b.pool[1], rounding_mode="floor")
        return lengths

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        if self.channels_last or (self.channels_last is None and x.device.type == "cpu"):
            x = x.contiguous(memory_format=torch.channels_last)  # oneDNN convs and pooling: ~1.4x on NHWC
        for conv, pool, drop, b in zip(self.convs, self.pools, self.drops, self.cfg.blocks):
            # zero the padding before every conv, so it reads what a lone sample's zero padding gives
            x = drop(pool(conv(_mask(x, lengths))))
            lengths = torch.div(lengths, b.pool[1], rounding_mode="floor")
        n, c, h, w = x.shape
        x = x.permute(0, 3, 1, 2).reshape(n, w, c * h)
        if self.proj is not None:
            x = self.proj(x)
        return x, lengths


def reverse_within(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each sequence of ``x [N, T, F]`` within its own length; padding stays in place."""
    t = torch.arange(x.shape[1], device=x.device)[None, :]
    n = lengths[:, None].to(t.device)
    idx = torch.where(t < n, n - 1 - t, t)
    return x.gather(1, idx[:, :, None].expand(-1, -1, x.shape[2]))


class RNNStack(nn.Module):
    """Bidirectional LSTM/GRU layers with dropout and optional layer norm.

    Two ways to run the same weights, both exact for every valid frame whatever the padding:
    ``packed`` (packed sequences: cuDNN's kernels on a GPU) and ``dense`` (the backward direction
    reads each sequence reversed within its own length; no PackedSequence, so it runs the fast
    dense CPU kernels and exports to ONNX/TorchScript). ``mode = "auto"`` picks packed on CUDA.
    """

    def __init__(self, in_features: int, cfg: RNNConfig):
        super().__init__()
        if cfg.cell not in ("lstm", "gru"):
            raise ValueError(f"rnn.cell must be lstm or gru, not {cfg.cell!r}")
        cls = nn.LSTM if cfg.cell == "lstm" else nn.GRU
        self.cfg = cfg
        self.mode = "auto"
        self.rnns = nn.ModuleList()
        self.norms = nn.ModuleList()
        size = in_features
        for _ in range(cfg.layers):
            self.rnns.append(cls(size, cfg.hidden, batch_first=True, bidirectional=True))
            self.norms.append(nn.LayerNorm(2 * cfg.hidden) if cfg.layer_norm else nn.Identity())
            size = 2 * cfg.hidden
        self.dropout = nn.Dropout(cfg.dropout)
        self.out_features = size

    def _packed(self, rnn: nn.RNNBase, x: Tensor, lengths: Tensor) -> Tensor:
        dev = x.device.type
        if torch.is_autocast_enabled(dev) and torch.get_autocast_dtype(dev) == torch.bfloat16:
            # Under bf16 autocast torch runs cuDNN RNNs in fp16 (the H200 profile showed __half RNN
            # kernels), and bf16 steps have no gradient scaler to keep fp16 gradients from underflowing:
            # the RNN runs in fp32 (TF32 on tensor cores), the convolutions stay bf16.
            with torch.autocast(dev, enabled=False):
                return self._packed(rnn, x.float(), lengths)
        packed = pack_padded_sequence(x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        out, _ = rnn(packed)
        return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]

    def _dense(self, rnn: nn.RNNBase, x: Tensor, lengths: Tensor) -> Tensor:
        w = rnn._flat_weights
        h0 = x.new_zeros(1, x.shape[0], rnn.hidden_size)

        def run(inp: Tensor, params: list[Tensor]) -> Tensor:
            if isinstance(rnn, nn.LSTM):
                return torch.lstm(inp, (h0, h0), params, True, 1, 0.0, self.training, False, True)[0]
            return torch.gru(inp, h0, params, True, 1, 0.0, self.training, False, True)[0]

        fwd = run(x, w[:4])
        bwd = reverse_within(run(reverse_within(x, lengths), w[4:]), lengths)
        return torch.cat([fwd, bwd], dim=-1)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        packed = self.mode == "packed" or (self.mode == "auto" and x.is_cuda)
        for rnn, norm in zip(self.rnns, self.norms):
            x = self.dropout(x)
            x = self._packed(rnn, x, lengths) if packed else self._dense(rnn, x, lengths)
            x = norm(x)
        return self.dropout(x)


class CTCModel(nn.Module):
    """Front-end + RNN stack + linear head; ``forward`` returns fp32 log-probs ``[N, T, V]``."""

    def __init__(self, cfg: ModelConfig, num_classes: int):
        super().__init__()
        self.cfg = cfg
        self.num_classes = num_classes
        self.frontend = ConvFrontend(cfg.frontend)
        self.rnn = RNNStack(self.frontend.out_features, cfg.rnn)
        self.head = nn.Linear(self.rnn.out_features, num_classes)

    @property
    def width_stride(self) -> int:
        return self.frontend.width_stride

    def output_lengths(self, lengths: Tensor) -> Tensor:
        return self.frontend.output_lengths(lengths)

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        feats, out_lengths = self.frontend(x, lengths)
        logits = self.head(self.rnn(feats, out_lengths))
        return logits.float().log_softmax(-1), out_lengths

    def resize_head(self, num_classes: int) -> None:
        """Grow (or shrink) the output layer, keeping the rows of existing classes."""
        old = self.head
        new = nn.Linear(old.in_features, num_classes).to(old.weight.device)
        k = min(num_classes, old.out_features)
        with torch.no_grad():
            new.weight[:k] = old.weight[:k]
            new.bias[:k] = old.bias[:k]
        self.head, self.num_classes = new, num_classes
