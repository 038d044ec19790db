"""Training that survives faults: SIGKILL/SIGTERM and resume, non-finite steps, out-of-memory batches,
and two processes under torchrun (gloo on CPU)."""
import json
import math
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from recognize.core.model import ConvBlock, CTCModel, FrontendConfig, ModelConfig, RNNConfig
from recognize.core.step import Stepper, sub_batch

from conftest import ROOT

TINY = ROOT / "tests" / "tiny_recipe.yaml"


def overrides(data, *extra):
    return [f"data.train=[{{kind: folder, path: '{data / 'train'}'}}]",
            f"data.valid=[{{kind: folder, path: '{data / 'valid'}'}}]",
            "train.epochs=3", "train.checkpoint_every=2", "train.deterministic=true", "train.threads=1",
            "model.rnn.dropout=0.2", "data.augment=true", *extra]


def train_cmd(data, out, cache, *extra):
    args = [sys.executable, "-m", "recognize", "train", str(TINY), "-o", str(out), "--cache", str(cache)]
    for o in overrides(data):
        args += ["--set", o]
    return args + list(extra)


def final_weights(run):
    return torch.load(run / "last.ckpt", weights_only=True)["model"]


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)


@pytest.fixture(scope="module")
def uninterrupted(tiny_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    r = subprocess.run(train_cmd(tiny_data, out / "run", out / "cache"), capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return out / "run"


def _wait_for_checkpoint(run, proc, timeout=120):
    t0 = time.time()
    while not (run / "last.ckpt").exists():
        assert proc.poll() is None, "training ended before its first checkpoint"
        assert time.time() - t0 < timeout
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [int(s) for s in os.environ.get("KILL_SEEDS", "1 2 3").split()])
def test_sigkill_at_any_moment_then_resume_ends_with_the_same_weights(seed, tiny_data, uninterrupted, tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen(train_cmd(tiny_data, run, tmp_path / "cache"), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _wait_for_checkpoint(run, proc)
    time.sleep(random.Random(seed).uniform(0, 2.0))  # somewhere in the run: a step, a checkpoint, validation
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    step = torch.load(run / "last.ckpt", weights_only=True)["step"]
    r = subprocess.run(train_cmd(tiny_data, run, tmp_path / "cache", "--resume", str(run / "last.ckpt")),
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert_same(final_weights(uninterrupted), final_weights(run))
    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    full = [json.loads(line) for line in (uninterrupted / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history if "valid" in h] == [h["epoch"] for h in full if "valid" in h], step


@pytest.mark.slow
def test_sigterm_checkpoints_and_exits_143_then_resumes(tiny_data, uninterrupted, tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen(train_cmd(tiny_data, run, tmp_path / "cache"), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_for_checkpoint(run, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal arrived")
    assert proc.returncode == 143, err
    assert "interrupted at step" in err and "--resume" in err
    ckpt = torch.load(run / "last.ckpt", weights_only=True)
    assert f"interrupted at step {ckpt['step']};" in err
    r = subprocess.run(train_cmd(tiny_data, run, tmp_path / "cache", "--resume", str(run / "last.ckpt")),
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert_same(final_weights(uninterrupted), final_weights(run))


# --- one step ------------------------------------------------------------------------------------------------

def tiny_net(batch_norm=False):
    blocks = [ConvBlock(8, pool=(2, 2)), ConvBlock(8, pool=(2, 1))]
    cfg = ModelConfig(FrontendConfig(1, 16, blocks, batch_norm=batch_norm), RNNConfig("lstm", 1, 16, 0.0))
    torch.manual_seed(0)
    return CTCModel(cfg, 6)


def batch(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    widths = torch.randint(40, 64, (n,), generator=g)
    x = torch.rand(n, 1, 16, int(widths.max()), generator=g)
    tl = torch.randint(1, 5, (n,), generator=g, dtype=torch.int32)
    targets = torch.randint(1, 6, (int(tl.sum()),), generator=g, dtype=torch.int32)
    return {"x": x, "lengths": widths, "targets": targets, "target_lengths": tl, "index": torch.arange(n)}


def test_non_finite_loss_skips_the_update_and_says_so(caplog):
    net = tiny_net()
    stepper = Stepper(net, torch.optim.AdamW(net.parameters(), lr=0.1), torch.device("cpu"))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    bad = batch()
    bad["x"][3, 0, 0, 0] = float("nan")
    st = stepper.step(bad, 7)
    assert st.skipped_nonfinite == 1 and not st.applied
    assert "step 7: non-finite loss, update skipped" in caplog.text
    assert_same(before, net.state_dict())
    assert not stepper.opt.state  # AdamW's moments untouched
    st = stepper.step(batch(seed=1), 8)
    assert st.applied and st.skipped_nonfinite == 0
    assert any(not torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_non_finite_gradient_skips_the_update():
    net = tiny_net()
    stepper = Stepper(net, torch.optim.SGD(net.parameters(), lr=0.1), torch.device("cpu"))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.head.weight.register_hook(lambda g: g * float("inf"))
    st = stepper.step(batch(), 1)
    assert st.skipped_nonfinite == 1
    assert_same(before, net.state_dict())


class OOMAbove(torch.nn.Module):
    """Wraps a net; raises CUDA's out-of-memory error for batches larger than ``limit``."""

    def __init__(self, net, limit):
        super().__init__()
        self.inner, self.limit, self.sizes = net, limit, []

    def forward(self, x, lengths):
        self.sizes.append(len(x))
        if len(x) > self.limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.inner(x, lengths)


def test_out_of_memory_splits_the_batch_and_gives_the_same_step(caplog):
    b = batch(8)
    whole = tiny_net()
    Stepper(whole, torch.optim.SGD(whole.parameters(), lr=0.5), torch.device("cpu")).step(b, 1)
    split = tiny_net()
    wrapped = OOMAbove(split, 3)
    st = Stepper(wrapped, torch.optim.SGD(split.parameters(), lr=0.5), torch.device("cpu")).step(b, 1)
    assert st.applied and st.samples == 8 and st.oom_splits == 3  # 8 -> 4 + 4 -> 2 + 2 + 2 + 2
    assert wrapped.sizes == [8, 4, 2, 2, 4, 2, 2]
    assert "out of memory on a batch of 8; split 3 time(s)" in caplog.text
    for k, v in whole.state_dict().items():
        torch.testing.assert_close(split.state_dict()[k], v, rtol=1e-5, atol=1e-6, msg=k)


class OOMInBackward(OOMAbove):
    """Out of memory in the backward pass of batches larger than ``limit`` (some gradients already added)."""

    def forward(self, x, lengths):
        self.sizes.append(len(x))
        lp, n = self.inner(x, lengths)
        if len(x) > self.limit:
            def fail(grad):
                raise torch.cuda.OutOfMemoryError("CUDA out of memory (backward)")
            lp.register_hook(fail)
        return lp, n


def test_out_of_memory_in_backward_restarts_the_step_with_smaller_parts():
    b = batch(8)
    whole = tiny_net()
    Stepper(whole, torch.optim.SGD(whole.parameters(), lr=0.5), torch.device("cpu")).step(b, 1)
    split = tiny_net()
    split.frontend.convs[0][0].weight.register_hook(lambda g: g)  # gradients reach the first layer
    wrapped = OOMInBackward(split, 2)
    st = Stepper(wrapped, torch.optim.SGD(split.parameters(), lr=0.5), torch.device("cpu")).step(b, 1)
    assert st.applied and st.samples == 8 and st.oom_splits >= 2
    for k, v in whole.state_dict().items():
        torch.testing.assert_close(split.state_dict()[k], v, rtol=1e-5, atol=1e-6, msg=k)


def test_a_sample_that_never_fits_is_skipped_and_the_rest_learned():
    net = tiny_net()
    st = Stepper(OOMAbove(net, 0), torch.optim.SGD(net.parameters(), lr=0.5), torch.device("cpu")).step(batch(2), 1)
    assert st.oom_skipped == 2 and st.samples == 0 and not st.applied


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_mixed_precision_steps_learn_and_fp16_overflows_are_not_faults(amp, caplog):
    net = tiny_net(batch_norm=True)
    stepper = Stepper(net, torch.optim.AdamW(net.parameters(), lr=3e-3), torch.device("cpu"), amp=amp)
    stats = [stepper.step(batch(8, seed=0), k) for k in range(30)]
    assert all(math.isfinite(s.loss) for s in stats) and stats[-1].loss < 0.8 * stats[0].loss
    assert sum(s.applied for s in stats) >= 20 and not any(s.skipped_nonfinite for s in stats)
    assert "non-finite" not in caplog.text
    if amp == "fp16":  # the scaler starts at 65536 and lowers itself on the first overflows
        assert stats[0].fp16_overflows == 1 and stepper.scaler.get_scale() < 65536


def test_sub_batch_keeps_each_samples_targets():
    b = batch(5)
    part = sub_batch(b, [1, 3])
    tl = b["target_lengths"].tolist()
    start = [sum(tl[:i]) for i in range(5)]
    want = torch.cat([b["targets"][start[1]:start[1] + tl[1]], b["targets"][start[3]:start[3] + tl[3]]])
    assert torch.equal(part["targets"], want) and part["x"].shape[-1] == int(b["lengths"][[1, 3]].max())


# --- two processes -----------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_torchrun_two_processes_on_cpu_train_one_model(tiny_data, tmp_path):
    run = tmp_path / "run"
    args = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
            "-m", "recognize", "train", str(TINY), "-o", str(run), "--cache", str(tmp_path / "cache")]
    for o in overrides(tiny_data, "train.epochs=4", "train.lr=0.02"):
        args += ["--set", o]
    r = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=600,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("model.safetensors") == 1  # rank 0 reports, rank 1 does not
    ckpt = torch.load(run / "last.ckpt", weights_only=True)
    assert ckpt["world_size"] == 2 and len(ckpt["rng_ranks"]) == 2
    assert not torch.equal(ckpt["rng_ranks"][0]["torch"], ckpt["rng_ranks"][1]["torch"])  # own dropout per rank
    epochs = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines() if '"valid"' in line]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4]  # written once, by rank 0
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]
    from recognize.core.modelfile import read_metadata
    assert read_metadata(run / "model.safetensors")["training"]["processes"] == 2


def test_resumed_history_drops_what_is_trained_again(tmp_path):
    """A checkpoint written at an epoch's last step precedes that epoch's validation: resuming from
    it must drop the epoch's record (it is validated again), whatever its step."""
    from recognize.core.history import History, read
    steps = [{"step": s, "epoch": 1, "loss": 1.0, "lr": 0.1, "samples_per_s": 5.0, "seen": 4 * s, "time": s}
             for s in range(1, 11)]
    epoch1 = {"epoch": 1, "step": 10, "train_loss": 1.0, "valid": {"cer": 0.5}, "best": 0.5}
    text = "".join(json.dumps(r) + "\n" for r in [*steps, epoch1]) + '{"step": 11, "epo'  # cut by a kill
    for done, want_epochs in ((0, 0), (1, 1)):
        (tmp_path / "history.jsonl").write_text(text)
        History(tmp_path, True, (10, done)).close()
        records = read(tmp_path / "history.jsonl")
        assert [r["step"] for r in records if "valid" not in r] == list(range(1, 11))
        assert len([r for r in records if "valid" in r]) == want_epochs
        assert len((tmp_path / "epochs.csv").read_text().splitlines()) == 1 + want_epochs
        assert len((tmp_path / "steps.csv").read_text().splitlines()) == 11
