"""Beam search on the GPU with torchaudio's ``cuda_ctc_decoder`` (no LM; blank must be id 0, as here)."""
from __future__ import annotations

import torch
from torch import Tensor

from .align import hypothesis_from_ids
from .decode import Hypothesis
from .decoders import DecoderSpec, beam_settings
from .vocab import Vocabulary


class CudaDecoder:
    def __init__(self, spec: DecoderSpec, vocab: Vocabulary, device: str = "cuda") -> None:
        from torchaudio.models.decoder import cuda_ctc_decoder
        self.spec, self.vocab, self.device = spec, vocab, device
        names = ["<blank>"] + [f"t{i}" for i in range(1, len(vocab))]  # the decoder only needs distinct names
        self._decoder = cuda_ctc_decoder(names, nbest=spec.nbest, beam_size=spec.beam_width)

    def settings(self) -> dict:
        return beam_settings(self.spec, "cuda", None)

    def __call__(self, log_probs: Tensor, lengths: Tensor) -> list[Hypothesis]:
        log_probs, lengths = torch.as_tensor(log_probs), torch.as_tensor(lengths)  # numpy from ONNX Runtime
        lp = log_probs.detach().to(self.device, torch.float32).contiguous()  # stored log-probs come from the CPU
        results = self._decoder(lp, lengths.to(lp.device, torch.int32))
        cpu = lp.cpu()
        out = []
        for i, hyps in enumerate(results):
            n = int(lengths[i])
            ids = [int(t) for t in hyps[0].tokens if int(t) != 0] if hyps else []
            best = hypothesis_from_ids(cpu[i, :n], ids, self.vocab)
            if hyps:
                best.score = float(hyps[0].score)
                best.alternatives = [(self.vocab.decode(h.tokens), round(float(h.score), 4)) for h in hyps]
            out.append(best)
        return out
