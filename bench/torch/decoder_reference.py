#!/usr/bin/env python3
"""PyTorch peer for the `decoders` benchmark: a Llama-shaped causal LM trained one step at a time.

The layout of Hugging Face's LlamaForCausalLM (RMSNorm, rotary embeddings with rotate_half,
grouped-query attention, SwiGLU MLP, untied lm_head off by default as SmolLM2 ties it), trained on
random token ids with AdamW and the mean next-token cross-entropy. `--method lora` freezes the base
and trains LoRA adapters (r, alpha) on every linear layer of the blocks (q/k/v/o/gate/up/down), as
PEFT's `target_modules="all-linear"` does; `--method full` trains every weight.

Needs PyTorch: on Debian 12, `apt-get install -y python3-torch libopenblas0-pthread`, run with /usr/bin/python3.
Development and benchmarking only: never shipped, never imported by the product.

  /usr/bin/python3 bench/torch/decoder_reference.py --method lora --layers 30 --hidden 576 \
      --heads 9 --kv-heads 3 --intermediate 1536 --vocab 49152 --seq 256 --batch 4 --threads 2

Output: one JSON line {"impl": "pytorch", "tokens_per_s": ..., "step_ms_median": ...,
"forward_ms_median": ..., ...}; the caller reads peak RSS itself.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LoraLinear(nn.Module):
    """A frozen nn.Linear plus PEFT's LoRA: y = W x + (alpha / r) * B(A(x)), B initialised to zero."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        self.base.weight.requires_grad_(False)
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scale


class RMSNorm(nn.Module):
    def __init__(self, h, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(h))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Block(nn.Module):
    def __init__(self, a):
        super().__init__()
        h, d = a.hidden, a.hidden // a.heads
        self.heads, self.kv_heads, self.d = a.heads, a.kv_heads, d
        lin = lambda i, o: nn.Linear(i, o, bias=False)
        self.q_proj, self.k_proj = lin(h, a.heads * d), lin(h, a.kv_heads * d)
        self.v_proj, self.o_proj = lin(h, a.kv_heads * d), lin(a.heads * d, h)
        self.gate_proj, self.up_proj, self.down_proj = lin(h, a.intermediate), lin(h, a.intermediate), lin(a.intermediate, h)
        self.input_layernorm, self.post_attention_layernorm = RMSNorm(h, 1e-5), RMSNorm(h, 1e-5)

    def forward(self, x, cos, sin, bias):
        b, t, _ = x.shape
        y = self.input_layernorm(x)
        q = self.q_proj(y).view(b, t, self.heads, self.d).transpose(1, 2)
        k = self.k_proj(y).view(b, t, self.kv_heads, self.d).transpose(1, 2)
        v = self.v_proj(y).view(b, t, self.kv_heads, self.d).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        r = self.heads // self.kv_heads
        k, v = k.repeat_interleave(r, dim=1), v.repeat_interleave(r, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d) + bias
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, -1)
        x = x + self.o_proj(ctx)
        y = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(y)) * self.up_proj(y))


class CausalLm(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.embed_tokens = nn.Embedding(a.vocab, a.hidden)
        self.layers = nn.ModuleList(Block(a) for _ in range(a.layers))
        self.norm = RMSNorm(a.hidden, 1e-5)
        d = a.hidden // a.heads
        inv_freq = 1.0 / (a.rope_theta ** (torch.arange(0, d, 2).float() / d))
        angles = torch.outer(torch.arange(a.seq).float(), inv_freq)
        emb = torch.cat((angles, angles), dim=-1)
        self.cos, self.sin = emb.cos()[None, None], emb.sin()[None, None]
        self.bias = torch.full((a.seq, a.seq), torch.finfo(torch.float32).min).triu(1)[None, None]

    def forward(self, ids):
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin, self.bias)
        return self.norm(x) @ self.embed_tokens.weight.T  # tied lm_head, as SmolLM2


def main():
    p = argparse.ArgumentParser()
    for name, default in [("layers", 30), ("hidden", 576), ("heads", 9), ("kv-heads", 3), ("intermediate", 1536),
                          ("vocab", 49152), ("seq", 256), ("batch", 4), ("steps", 10), ("warmup-steps", 2),
                          ("threads", 2), ("r", 16), ("alpha", 32)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--method", choices=["full", "lora"], default="lora")
    p.add_argument("--rope-theta", type=float, default=100000.0)
    p.add_argument("--lr", type=float, default=2e-4)
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = CausalLm(a)
    for prm in model.parameters():  # HF's _init_weights: normal(0, initializer_range 0.02); norms stay 1
        if prm.dim() >= 2:
            nn.init.normal_(prm, std=0.02)
    if a.method == "lora":
        for prm in model.parameters():
            prm.requires_grad_(False)
        for block in model.layers:
            for name in ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"):
                setattr(block, name, LoraLinear(getattr(block, name), a.r, a.alpha))
    trainable = [(n, prm) for n, prm in model.named_parameters() if prm.requires_grad]
    decay = [prm for n, prm in trainable if prm.dim() >= 2 and "norm" not in n]
    no_decay = [prm for n, prm in trainable if not (prm.dim() >= 2 and "norm" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=a.lr)
    ids = torch.randint(0, a.vocab, (a.batch, a.seq))
    labels = torch.cat((ids[:, 1:], torch.full((a.batch, 1), -100)), dim=1)
    model.train()
    steps, forwards = [], []
    for step in range(a.steps + a.warmup_steps):
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(ids).view(-1, a.vocab), labels.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([prm for _, prm in trainable], 1.0)
        opt.step()
        if step >= a.warmup_steps:
            steps.append(time.perf_counter() - t0)
    with torch.no_grad():
        for step in range(max(3, a.steps // 2) + 1):
            t0 = time.perf_counter()
            model(ids)
            if step > 0:
                forwards.append(time.perf_counter() - t0)
    med = statistics.median(steps)
    print(json.dumps({
        "impl": "pytorch", "torch": torch.__version__, "threads": a.threads, "method": a.method,
        "params": sum(prm.numel() for prm in model.parameters()),
        "trainable": sum(prm.numel() for _, prm in trainable),
        "layers": a.layers, "hidden": a.hidden, "seq": a.seq, "batch": a.batch, "steps": len(steps),
        "step_ms_median": round(med * 1e3, 2), "forward_ms_median": round(statistics.median(forwards) * 1e3, 2),
        "tokens_per_s": round(a.batch * a.seq / med, 1), "final_loss": round(loss.item(), 5),
    }))


if __name__ == "__main__":
    main()
