#!/usr/bin/env python3
"""PyTorch peer for the `gpt2-small` case: GPT2LMHeadModel trained as a causal LM, one step at a time.

transformers' modeling_gpt2.py for training, written out in plain PyTorch (transformers is not
installed here): token and learned position embeddings, pre-LayerNorm blocks whose Conv1D layers
hold [in, out] weights (c_attn making q, k, v at once, c_proj, c_fc), causal self-attention with
scores scaled by 1/sqrt(d_head) and masked with the dtype's minimum, gelu_new (the tanh
approximation), final ln_f and an LM head tied to wte; the loss is cross-entropy of each position
on the next token (labels = input ids, shifted inside, as GPT2LMHeadModel). Dropout 0.1 on
embeddings, attention probabilities and residual branches. AdamW without weight decay on biases
and LayerNorm weights (as the Trainer), linear warmup/decay, grad-norm clip 1.0, random ids.

Needs PyTorch: on Debian 12, `apt-get install -y python3-torch libopenblas0-pthread`, run with /usr/bin/python3.
Development and benchmarking only: never shipped, never imported by the product.

  /usr/bin/python3 bench/torch/gpt2_reference.py --layers 12 --hidden 768 --heads 12 \
      --intermediate 3072 --vocab 50257 --seq 256 --batch 4 --steps 10 --warmup-steps 3 --threads 2

Output: one JSON line {"impl": "pytorch", "tokens_per_s": ..., "step_ms_median": ..., ...}, the
fields of shared/bench/torch_reference.py; the caller reads peak RSS itself.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv1D(nn.Module):
    """transformers' Conv1D: y = x @ W + b with W stored [in, out]."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * 0.02)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(*x.shape[:-1], -1)


class Block(nn.Module):
    def __init__(self, h, heads, inter, p):
        super().__init__()
        self.heads = heads
        self.ln_1, self.ln_2 = nn.LayerNorm(h, eps=1e-5), nn.LayerNorm(h, eps=1e-5)
        self.c_attn, self.attn_proj = Conv1D(h, 3 * h), Conv1D(h, h)
        self.c_fc, self.mlp_proj = Conv1D(h, inter), Conv1D(inter, h)
        self.drop = nn.Dropout(p)

    def forward(self, x, causal):
        b, t, h = x.shape
        d = h // self.heads
        split = lambda y: y.view(b, t, self.heads, d).transpose(1, 2)
        q, k, v = (split(y) for y in self.c_attn(self.ln_1(x)).split(h, dim=2))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d)
        scores = scores.masked_fill(~causal, torch.finfo(scores.dtype).min)
        ctx = (self.drop(scores.softmax(-1)) @ v).transpose(1, 2).reshape(b, t, h)
        x = x + self.drop(self.attn_proj(ctx))
        return x + self.drop(self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh")))


class Gpt2(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(a.vocab, a.hidden), nn.Embedding(1024, a.hidden)
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.01)
        self.drop = nn.Dropout(a.dropout)
        self.h = nn.ModuleList(Block(a.hidden, a.heads, a.intermediate, a.dropout) for _ in range(a.layers))
        self.ln_f = nn.LayerNorm(a.hidden, eps=1e-5)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.drop(self.wte(ids) + self.wpe(torch.arange(t))[None])
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        for block in self.h:
            x = block(x, causal)
        return self.ln_f(x) @ self.wte.weight.t()  # the tied LM head


def main():
    p = argparse.ArgumentParser()
    for name, default in [("layers", 12), ("hidden", 768), ("heads", 12), ("intermediate", 3072), ("vocab", 50257),
                          ("seq", 256), ("batch", 4), ("steps", 10), ("warmup-steps", 3), ("threads", 2)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--lr", type=float, default=2e-5)
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = Gpt2(a)
    no_decay = lambda n: n.endswith("bias") or ".ln_" in n or n.startswith("ln_f")
    groups = [
        {"params": [prm for n, prm in model.named_parameters() if not no_decay(n)], "weight_decay": 0.01},
        {"params": [prm for n, prm in model.named_parameters() if no_decay(n)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=a.lr)
    total = a.steps + a.warmup_steps
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, total // 10)) * max(0.0, (total - s) / total))
    ids = torch.randint(0, a.vocab, (a.batch, a.seq))
    model.train()
    times = []
    for step in range(total):
        t0 = time.perf_counter()
        logits = model(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, a.vocab), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step >= a.warmup_steps:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(json.dumps({
        "impl": "pytorch", "model": "gpt2", "torch": torch.__version__, "threads": a.threads,
        "params": sum(prm.numel() for prm in model.parameters()),
        "layers": a.layers, "hidden": a.hidden, "seq": a.seq, "batch": a.batch, "steps": len(times),
        "step_ms_median": round(med * 1e3, 2), "tokens_per_s": round(a.batch * a.seq / med, 1),
        "final_loss": round(loss.item(), 5),
    }))


if __name__ == "__main__":
    main()
