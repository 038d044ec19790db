import pytest
import torch

from recognize.core.model import ConvBlock, CTCModel, FrontendConfig, ModelConfig, RNNConfig


def make(cell="lstm", layer_norm=False):
    cfg = ModelConfig(FrontendConfig(height=16, blocks=[ConvBlock(4, pool=(2, 2)), ConvBlock(8, pool=(2, 1)),
                                                        ConvBlock(8, pool=(1, 2))]),
                      RNNConfig(cell=cell, layers=2, hidden=12, dropout=0.1, layer_norm=layer_norm))
    torch.manual_seed(0)
    return CTCModel(cfg, 7).eval()


@pytest.mark.parametrize("width", [4, 5, 17, 64, 101])
def test_output_length_matches_forward(width):
    net = make()
    lp, lens = net(torch.rand(1, 1, 16, width), torch.tensor([width]))
    assert lens.item() == width // 4 == net.output_lengths(torch.tensor([width])).item()
    assert lp.shape == (1, width // 4, 7)
    assert torch.allclose(lp.exp().sum(-1), torch.ones(1, width // 4), atol=1e-5)


@pytest.mark.parametrize("mode", ["packed", "dense"])
@pytest.mark.parametrize("cell,layer_norm", [("lstm", False), ("gru", True)])
def test_output_does_not_change_when_batched_with_longer_neighbours(cell, layer_norm, mode):
    net = make(cell, layer_norm)
    net.rnn.mode = mode
    short = torch.rand(1, 16, 37)
    long = torch.rand(1, 16, 120)
    alone, alone_len = net(short[None], torch.tensor([37]))
    batch = torch.zeros(2, 1, 16, 120)
    batch[0, :, :, :37] = short
    batch[1] = long
    batch[0, :, :, 37:] = 5.0  # garbage in the padding must not leak either
    together, lens = net(batch, torch.tensor([37, 120]))
    n = alone_len.item()
    assert lens[0].item() == n
    torch.testing.assert_close(together[0, :n], alone[0], atol=1e-5, rtol=1e-5)


def test_unknown_cell_is_rejected():
    with pytest.raises(ValueError, match="lstm or gru"):
        CTCModel(ModelConfig(rnn=RNNConfig(cell="rnn")), 5)


def test_resize_head_keeps_existing_rows():
    net = make()
    w = net.head.weight.detach().clone()
    net.resize_head(10)
    assert net.head.out_features == 10
    torch.testing.assert_close(net.head.weight[:7], w)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_packed_and_dense_rnn_paths_agree_on_valid_frames(cell):
    net = make(cell)
    x = torch.rand(3, 1, 16, 60)
    lengths = torch.tensor([60, 33, 17])
    net.rnn.mode = "packed"
    a, lens = net(x, lengths)
    net.rnn.mode = "dense"
    b, _ = net(x, lengths)
    for i, n in enumerate(lens.tolist()):
        torch.testing.assert_close(a[i, :n], b[i, :n], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_packed_rnn_runs_in_float32_under_bf16_autocast(cell):
    """torch would run it in a half type there (fp16 for cuDNN on a GPU, with no gradient scaler)."""
    rnn = make(cell).rnn
    rnn.mode = "packed"
    x, lengths = torch.rand(3, 20, rnn.rnns[0].input_size), torch.tensor([20, 13, 5])
    exact = rnn(x, lengths)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = rnn(x.bfloat16(), lengths)
    assert mixed.dtype == torch.float32
    torch.testing.assert_close(mixed, exact, atol=1e-2, rtol=0)  # only the input was rounded to bf16


def test_reverse_within_length():
    from recognize.core.model import reverse_within
    x = torch.arange(10.0).reshape(2, 5, 1)
    r = reverse_within(x, torch.tensor([3, 5]))
    assert r[0, :, 0].tolist() == [2, 1, 0, 3, 4] and r[1, :, 0].tolist() == [9, 8, 7, 6, 5]


def test_batch_norm_fusion_keeps_the_outputs():
    import copy
    net = make()
    for bn in net.modules():  # non-trivial running statistics
        if isinstance(bn, torch.nn.BatchNorm2d):
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
            bn.weight.data.uniform_(0.5, 1.5)
    fused = copy.deepcopy(net)
    fused.frontend.fuse_batch_norm()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    x, lens = torch.rand(3, 1, 16, 50), torch.tensor([50, 41, 9])
    torch.testing.assert_close(fused(x, lens)[0], net(x, lens)[0], atol=1e-5, rtol=1e-4)
