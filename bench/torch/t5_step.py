#!/usr/bin/env python3
"""PyTorch peer for the `seq2seq` benchmark: a T5 (T5ForConditionalGeneration's layout) in plain
torch, trained one step at a time (`--mode train`) or decoding with a KV cache (`--mode greedy`,
`--mode beam`).

The model is Hugging Face's T5 v1.0: T5LayerNorm (RMS, no mean, no bias), attention without
1/sqrt(d) scaling, relative position buckets computed in the first block of each stack and shared,
ReLU feed-forward, dropout where modeling_t5.py has it (embeddings, attention weights, each sublayer
output, inside the feed-forward, after the final norms), the tied lm_head with the d_model**-0.5
rescale, and the loss on labels with decoder_input_ids = shift_right(labels). Training: AdamW
(weight decay 0.01, none for norms), gradient clipping at 1.0, random token ids.

Decoding: the encoder once per batch, the cross-attention keys/values once per source, then one
decoder token per step against the cached self-attention keys/values. greedy: argmax per row;
beam: `--beams` hypotheses per source scored by the sum of log-probabilities (HF's beam search
with length_penalty 1 and no EOS reached: random weights), the cache reordered by beam every step.
Both run exactly --new-tokens steps (no early stop), as the engine's case does on random weights.

Needs PyTorch (Debian 12: apt-get install -y python3-torch libopenblas0-pthread; /usr/bin/python3).
Development and benchmarking only: never shipped, never imported by the product.

  /usr/bin/python3 bench/torch/t5_step.py --mode train --layers 6 --d-model 512 --heads 8 \
      --d-ff 2048 --vocab 32128 --source 128 --target 64 --batch 16 --threads 2

Output: one JSON line {"impl": "pytorch", "mode", "tokens_per_s" (train) or "sentences_per_s"
(decoding), "step_ms_median", ...}.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def bucket(rel, bidirectional, num_buckets, max_distance):
    """modeling_t5.py's _relative_position_bucket."""
    out = torch.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        out += (rel > 0).long() * num_buckets
        rel = rel.abs()
    else:
        rel = -torch.min(rel, torch.zeros_like(rel))
    max_exact = num_buckets // 2
    large = max_exact + (
        torch.log(rel.float().clamp(min=1) / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    ).long()
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return out + torch.where(rel < max_exact, rel, large)


class Norm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))


class Attention(nn.Module):
    def __init__(self, a, relative, bidirectional):
        super().__init__()
        self.h, self.d, self.p = a.heads, a.d_kv, a.dropout
        inner = a.heads * a.d_kv
        self.q, self.k, self.v = (nn.Linear(a.d_model, inner, bias=False) for _ in range(3))
        self.o = nn.Linear(inner, a.d_model, bias=False)
        self.bidirectional, self.buckets, self.max_distance = bidirectional, a.buckets, a.max_distance
        self.relative_attention_bias = nn.Embedding(a.buckets, a.heads) if relative else None

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.h, self.d).transpose(1, 2)

    def position_bias(self, queries, keys, offset=0):
        ctx = torch.arange(offset, offset + queries)[:, None]
        mem = torch.arange(keys)[None, :]
        buckets = bucket(mem - ctx, self.bidirectional, self.buckets, self.max_distance)
        return self.relative_attention_bias(buckets).permute(2, 0, 1)[None]  # [1, heads, q, k]

    def attend(self, q, k, v, bias):
        w = F.dropout((q @ k.transpose(-1, -2) + bias).softmax(-1), self.p, self.training)
        b, _, t, _ = q.shape
        return self.o((w @ v).transpose(1, 2).reshape(b, t, -1))


class Block(nn.Module):
    def __init__(self, a, relative, decoder):
        super().__init__()
        self.p = a.dropout
        self.self_norm, self.self_attn = Norm(a.d_model), Attention(a, relative, not decoder)
        if decoder:
            self.cross_norm, self.cross_attn = Norm(a.d_model), Attention(a, False, True)
        self.ff_norm = Norm(a.d_model)
        self.wi, self.wo = nn.Linear(a.d_model, a.d_ff, bias=False), nn.Linear(a.d_ff, a.d_model, bias=False)

    def ff(self, x):
        y = self.wo(F.dropout(F.relu(self.wi(self.ff_norm(x))), self.p, self.training))
        return x + F.dropout(y, self.p, self.training)

    def forward(self, x, bias, enc=None, cross_bias=None, cache=None):
        """cache (decoding): {'k', 'v'} of this block's self-attention so far and 'ck', 'cv' of the source."""
        y = self.self_norm(x)
        a = self.self_attn
        q, k, v = a.split(a.q(y)), a.split(a.k(y)), a.split(a.v(y))
        if cache is not None:
            k, v = torch.cat((cache["k"], k), 2), torch.cat((cache["v"], v), 2)
            cache["k"], cache["v"] = k, v
        x = x + F.dropout(a.attend(q, k, v, bias), self.p, self.training)
        if enc is not None or cache is not None:
            c = self.cross_attn
            y = self.cross_norm(x)
            ck, cv = (cache["ck"], cache["cv"]) if cache is not None else (c.split(c.k(enc)), c.split(c.v(enc)))
            x = x + F.dropout(c.attend(c.split(c.q(y)), ck, cv, cross_bias), self.p, self.training)
        return self.ff(x)


def mask_bias(mask):
    return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min


class T5(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.a = a
        self.shared = nn.Embedding(a.vocab, a.d_model)
        self.encoder = nn.ModuleList(Block(a, i == 0, False) for i in range(a.layers))
        self.decoder = nn.ModuleList(Block(a, i == 0, True) for i in range(a.layers))
        self.enc_norm, self.dec_norm = Norm(a.d_model), Norm(a.d_model)

    def drop(self, x):
        return F.dropout(x, self.a.dropout, self.training)

    def encode(self, ids, mask):
        x = self.drop(self.shared(ids))
        bias = self.encoder[0].self_attn.position_bias(ids.shape[1], ids.shape[1]) + mask_bias(mask)
        for block in self.encoder:
            x = block(x, bias)
        return self.drop(self.enc_norm(x))

    def logits(self, hidden):
        return F.linear(hidden * self.a.d_model ** -0.5, self.shared.weight)  # the tied lm_head (nn.Linear)

    def forward(self, ids, mask, decoder_ids):
        enc = self.encode(ids, mask)
        t = decoder_ids.shape[1]
        causal = torch.full((t, t), torch.finfo(torch.float32).min).triu(1)[None, None]
        bias = self.decoder[0].self_attn.position_bias(t, t) + causal
        x = self.drop(self.shared(decoder_ids))
        cross = mask_bias(mask)
        for block in self.decoder:
            x = block(x, bias, enc, cross)
        return self.logits(self.drop(self.dec_norm(x)))

    def decode_step(self, token, step, caches, cross):
        """One decoder token [B, 1] at position `step` against the caches."""
        bias = self.decoder[0].self_attn.position_bias(1, step + 1, offset=step)
        x = self.shared(token)
        for block, cache in zip(self.decoder, caches):
            x = block(x, bias, cross_bias=cross, cache=cache)
        return self.logits(self.dec_norm(x))[:, -1]


def init(model, a):
    """modeling_t5.py's _init_weights with initializer_factor 1."""
    for name, prm in model.named_parameters():
        if name.endswith("shared.weight"):
            nn.init.normal_(prm, std=1.0)
        elif name.endswith(".q.weight"):
            nn.init.normal_(prm, std=(a.d_model * a.d_kv) ** -0.5)
        elif name.endswith((".k.weight", ".v.weight")):
            nn.init.normal_(prm, std=a.d_model ** -0.5)
        elif name.endswith(".o.weight"):
            nn.init.normal_(prm, std=(a.heads * a.d_kv) ** -0.5)
        elif name.endswith("wi.weight"):
            nn.init.normal_(prm, std=a.d_model ** -0.5)
        elif name.endswith("wo.weight"):
            nn.init.normal_(prm, std=a.d_ff ** -0.5)
        elif name.endswith("relative_attention_bias.weight"):
            nn.init.normal_(prm, std=a.d_model ** -0.5)


def sources(a, rows):
    ids = torch.randint(2, a.vocab, (rows, a.source))
    ids[:, -1] = 1  # </s>
    return ids, torch.ones_like(ids)


def train(model, a):
    params = list(model.named_parameters())
    decay = [p for n, p in params if "norm" not in n]
    no_decay = [p for n, p in params if "norm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-4)
    ids, mask = sources(a, a.batch)
    labels = torch.randint(2, a.vocab, (a.batch, a.target))
    decoder_ids = torch.cat((torch.zeros(a.batch, 1, dtype=torch.long), labels[:, :-1]), 1)  # shift_right, start = pad = 0
    model.train()
    steps = []
    for step in range(a.steps + a.warmup_steps):
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(ids, mask, decoder_ids).reshape(-1, a.vocab), labels.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step >= a.warmup_steps:
            steps.append(time.perf_counter() - t0)
    med = statistics.median(steps)
    return {"step_ms_median": round(med * 1e3, 2), "tokens_per_s": round(a.batch * (a.source + a.target) / med, 1),
            "final_loss": round(loss.item(), 5), "steps": len(steps)}


@torch.no_grad()
def generate(model, a, beams):
    """Greedy (beams 1) or beam search over a batch of sources, exactly a.new_tokens steps."""
    ids, mask = sources(a, a.batch)
    rows = a.batch * beams
    enc = model.encode(ids, mask).repeat_interleave(beams, 0)
    cross = mask_bias(mask.repeat_interleave(beams, 0))
    caches = []
    for block in model.decoder:
        c = block.cross_attn
        empty = torch.zeros(rows, a.heads, 0, a.d_kv)
        caches.append({"k": empty, "v": empty, "ck": c.split(c.k(enc)), "cv": c.split(c.v(enc))})
    token = torch.zeros(rows, 1, dtype=torch.long)
    scores = torch.zeros(a.batch, beams)
    scores[:, 1:] = -1e9  # the beams of a source start as one hypothesis
    out = []
    for step in range(a.new_tokens):
        logits = model.decode_step(token, step, caches, cross)
        if beams == 1:
            token = logits.argmax(-1, keepdim=True)
        else:
            logp = logits.log_softmax(-1).view(a.batch, beams * a.vocab) + scores.view(a.batch, beams).repeat_interleave(a.vocab, 1)
            scores, flat = logp.topk(beams, dim=1)
            origin = (flat // a.vocab + torch.arange(a.batch)[:, None] * beams).view(-1)
            token = (flat % a.vocab).view(rows, 1)
            for cache in caches:
                cache["k"], cache["v"] = cache["k"][origin], cache["v"][origin]
        out.append(token)
    return torch.cat(out, 1)


def main():
    p = argparse.ArgumentParser()
    for name, default in [("layers", 6), ("d-model", 512), ("heads", 8), ("d-kv", 64), ("d-ff", 2048),
                          ("vocab", 32128), ("buckets", 32), ("max-distance", 128), ("source", 128), ("target", 64),
                          ("batch", 16), ("steps", 5), ("warmup-steps", 1), ("threads", 2), ("new-tokens", 64),
                          ("beams", 4)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--mode", choices=["train", "greedy", "beam"], default="train")
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = T5(a)
    init(model, a)
    result = {"impl": "pytorch", "torch": torch.__version__, "threads": a.threads, "mode": a.mode,
              "params": sum(prm.numel() for prm in model.parameters()), "batch": a.batch}
    if a.mode == "train":
        result.update(train(model, a))
    else:
        model.eval()
        beams = 1 if a.mode == "greedy" else a.beams
        times = []
        for run in range(a.steps + a.warmup_steps):
            t0 = time.perf_counter()
            generate(model, a, beams)
            if run >= a.warmup_steps:
                times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        result.update({"beams": beams, "new_tokens": a.new_tokens, "step_ms_median": round(med * 1e3, 2),
                       "sentences_per_s": round(a.batch / med, 3), "runs": len(times)})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
