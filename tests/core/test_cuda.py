"""The GPU training path: cuDNN CTC and its fallback, cuDNN RNNs on packed sequences, bf16/fp16 steps,
a whole training run. Skipped without a CUDA GPU (``benchmarks/gpu/run.sh`` runs them on one)."""
import pytest
import torch

from recognize.core.ctc import ctc_loss
from recognize.core.model import ConvBlock, CTCModel, FrontendConfig, ModelConfig, RNNConfig
from recognize.core.step import Stepper

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def ctc_batch(n=6, t=50, v=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    lp = torch.randn(n, t, v, generator=g).log_softmax(-1)
    tl = torch.randint(1, 20, (n,), generator=g, dtype=torch.int32)
    targets = torch.randint(1, v, (int(tl.sum()),), generator=g, dtype=torch.int32)
    return lp, targets, tl


def loss_and_grad(lp, targets, out_lengths, tl, device, cudnn):
    x = lp.detach().to(device).requires_grad_(True)  # a leaf of its own on either device
    loss, kernel = ctc_loss(x, targets, out_lengths, tl, cudnn)
    loss.backward()
    return float(loss.detach()), x.grad.cpu(), kernel


def test_cudnn_ctc_is_taken_when_its_conditions_hold_and_agrees_with_the_cpu():
    lp, targets, tl = ctc_batch()
    full = torch.full((len(tl),), lp.shape[1], dtype=torch.int32)
    cpu = loss_and_grad(lp, targets, full, tl, "cpu", False)
    gpu = loss_and_grad(lp, targets, full, tl, "cuda", True)
    assert gpu[2] == "cudnn"
    assert gpu[0] == pytest.approx(cpu[0], rel=1e-4)
    torch.testing.assert_close(gpu[1], cpu[1], rtol=1e-3, atol=1e-4)


def test_native_cuda_ctc_takes_batches_cudnn_cannot():
    lp, targets, tl = ctc_batch()
    short = torch.full((len(tl),), lp.shape[1], dtype=torch.int32)
    short[0] -= 5  # cuDNN needs every input at the padded length
    cpu = loss_and_grad(lp, targets, short, tl, "cpu", False)
    gpu = loss_and_grad(lp, targets, short, tl, "cuda", True)
    assert gpu[2] == "cuda"
    assert gpu[0] == pytest.approx(cpu[0], rel=1e-4)
    torch.testing.assert_close(gpu[1], cpu[1], rtol=1e-3, atol=1e-4)


def tiny(cell):
    torch.manual_seed(0)
    cfg = ModelConfig(FrontendConfig(1, 16, [ConvBlock(8, pool=(2, 2)), ConvBlock(16, pool=(2, 1))]),
                      RNNConfig(cell, 2, 32, 0.0))
    return CTCModel(cfg, 7).eval()


def inputs(n=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    widths = torch.randint(20, 80, (n,), generator=g)
    x = torch.rand(n, 1, 16, int(widths.max()), generator=g)
    for i, w in enumerate(widths.tolist()):
        x[i, ..., w:] = 0
    return x, widths


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_cudnn_rnn_on_packed_sequences_matches_the_cpu(cell):
    net = tiny(cell)
    x, widths = inputs()
    with torch.no_grad():
        cpu, cpu_len = net(x, widths)
        gpu, gpu_len = net.cuda()(x.cuda(), widths.cuda())
    assert torch.equal(cpu_len, gpu_len.cpu())
    for i, n in enumerate(cpu_len.tolist()):  # padded frames are not compared
        torch.testing.assert_close(gpu[i, :n].cpu(), cpu[i, :n], rtol=1e-3, atol=1e-4)


def test_channels_last_frontend_gives_the_same_frames_and_gradients(monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)  # both layouts in full fp32
    net = tiny("lstm").cuda()
    x, widths = inputs()
    out = {}
    for channels_last in (None, True):  # None: NCHW on a GPU
        net.frontend.channels_last = channels_last
        net.zero_grad()
        y, lengths = net.frontend(x.cuda(), widths.cuda())
        y.square().sum().backward()
        out[channels_last] = y.detach().cpu(), net.frontend.convs[0][0].weight.grad.cpu()
    torch.testing.assert_close(out[True][0], out[None][0], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(out[True][1], out[None][1], rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_mixed_precision_steps_learn(amp):
    net = tiny("lstm").train().cuda()
    stepper = Stepper(net, torch.optim.AdamW(net.parameters(), lr=3e-3), torch.device("cuda"), amp=amp)
    x, widths = inputs(8, seed=1)
    g = torch.Generator().manual_seed(2)
    tl = torch.randint(2, 6, (8,), generator=g, dtype=torch.int32)
    batch = {"x": x, "lengths": widths, "targets": torch.randint(1, 7, (int(tl.sum()),), generator=g,
                                                                 dtype=torch.int32),
             "target_lengths": tl, "index": torch.arange(8)}
    losses = [stepper.step(batch, k).loss for k in range(60)]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < 0.5 * losses[0], losses[::10]


def test_a_training_run_on_the_gpu(tiny_data, tmp_path):
    from recognize.core.config import load_recipe
    from recognize.core.modelfile import read_metadata
    from recognize.core.train import train

    from conftest import ROOT
    recipe = load_recipe(ROOT / "tests" / "tiny_recipe.yaml", [
        f"data.train=[{{kind: folder, path: '{tiny_data / 'train'}'}}]",
        f"data.valid=[{{kind: folder, path: '{tiny_data / 'valid'}'}}]", "train.device=cuda", "train.epochs=3"])
    result = train(recipe, tmp_path / "run", command="pytest gpu", cache_dir=tmp_path / "cache")
    training = read_metadata(result.model_path)["training"]
    assert training["device"].startswith("cuda")
    assert training["amp"] == ("bf16" if torch.cuda.is_bf16_supported() else "none")
