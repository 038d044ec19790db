import pytest
import torch

from recognize.core.model import CTCModel, ModelConfig
from recognize.core.prune import prune_channels


def model(projection: int) -> CTCModel:
    torch.manual_seed(0)
    cfg = ModelConfig.from_dict({"frontend": {"height": 16, "projection": projection, "blocks": [
        {"channels": 8, "pool": [2, 2]}, {"channels": 12, "pool": [2, 1]}]},
        "rnn": {"cell": "gru", "layers": 1, "hidden": 16, "dropout": 0.0}})
    net = CTCModel(cfg, 7)
    for bn in (m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)):  # trained-looking statistics
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.2, 0.2)
        bn.running_mean.uniform_(-0.3, 0.3)
        bn.running_var.uniform_(0.5, 2.0)
    return net.eval()


def run(net, x, lengths):
    with torch.no_grad():
        return net(x, lengths)[0]


@pytest.mark.parametrize("projection", [0, 24])
def test_removing_dead_channels_changes_nothing(projection):
    """A channel whose batch norm outputs 0 everywhere contributes nothing: pruning exactly those
    channels (the least important by |gamma|) must give the same log-probs."""
    net = model(projection)
    dead = {0: [1, 5], 1: [0, 3, 4, 11]}
    for i, chans in dead.items():
        bn = net.frontend.convs[i][1]
        bn.weight.data[chans] = 0.0
        bn.bias.data[chans] = 0.0
    x, lengths = torch.randn(3, 1, 16, 40), torch.tensor([40, 31, 17])
    small = prune_channels(net, [6, 8])
    assert [b.channels for b in small.cfg.frontend.blocks] == [6, 8]
    torch.testing.assert_close(run(small, x, lengths), run(net, x, lengths), atol=1e-5, rtol=1e-5)
    assert sum(p.numel() for p in small.parameters()) < sum(p.numel() for p in net.parameters())


def test_keeping_every_channel_is_the_same_model():
    net = model(24)
    x, lengths = torch.randn(2, 1, 16, 24), torch.tensor([24, 10])
    torch.testing.assert_close(run(prune_channels(net, [8, 12]), x, lengths), run(net, x, lengths))


def test_bad_channel_counts_are_refused():
    net = model(0)
    with pytest.raises(ValueError, match="one channel count per conv block"):
        prune_channels(net, [4])
    with pytest.raises(ValueError, match="block 2 has 12 channels"):
        prune_channels(net, [4, 13])
