#!/usr/bin/env python3
"""PyTorch peer for the `xlnet-h256` throughput case: XLNetForSequenceClassification trained one step at a time.

transformers' modeling_xlnet.py for fine-tuning, written out in plain PyTorch (transformers is not
installed here): the content stream only (no mems, no target_mapping, attn_type "bi", bi_data off),
relative sinusoidal position encodings, the content, position and segment score terms
(ac + bd + ef, bd through rel_shift_bnij) with r_w_bias / r_r_bias / r_s_bias and seg_embed, the
einsum tensors q, k, v, o, r of [d_model, n_head, d_head], post-LayerNorm, the GELU feed-forward,
and the sequence summary (last token, `summary` projection, tanh) with logits_proj. Time-first
layout ([T, B, ...]) and einsums as transformers writes them. Trained with AdamW (no weight
decay for biases and LayerNorm weights, as the Trainer) and a linear warmup/decay on random ids.

Needs PyTorch: on Debian 12, `apt-get install -y python3-torch libopenblas0-pthread`, run with /usr/bin/python3.
Development and benchmarking only: never shipped, never imported by the product.

  /usr/bin/python3 bench/torch/xlnet_reference.py --layers 4 --hidden 256 --heads 4 \
      --intermediate 1024 --vocab 32000 --seq 128 --batch 16 --steps 10 --warmup-steps 3 --threads 2

Output: one JSON line {"impl": "pytorch", "tokens_per_s": ..., "step_ms_median": ..., ...}, the
fields of shared/bench/torch_reference.py; the caller reads peak RSS itself.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RelativeAttention(nn.Module):
    """XLNetRelativeAttention's content stream and post_attention."""

    def __init__(self, h, heads, eps, p):
        super().__init__()
        d = h // heads
        self.scale = 1 / d**0.5
        for name in ("q", "k", "v", "o", "r"):
            setattr(self, name, nn.Parameter(torch.randn(h, heads, d) * 0.02))
        for name in ("r_r_bias", "r_s_bias", "r_w_bias"):
            setattr(self, name, nn.Parameter(torch.randn(heads, d) * 0.02))
        self.seg_embed = nn.Parameter(torch.randn(2, heads, d) * 0.02)
        self.layer_norm = nn.LayerNorm(h, eps=eps)
        self.dropout = nn.Dropout(p)

    @staticmethod
    def rel_shift_bnij(x, klen):
        b, n, i, j = x.shape
        x = x.reshape(b, n, j, i)[:, :, 1:, :].reshape(b, n, i, j - 1)
        return torch.index_select(x, 3, torch.arange(klen, dtype=torch.long))

    def forward(self, h, pos_emb, seg_mat, attn_mask):
        q = torch.einsum("ibh,hnd->ibnd", h, self.q)
        k = torch.einsum("ibh,hnd->ibnd", h, self.k)
        v = torch.einsum("ibh,hnd->ibnd", h, self.v)
        k_r = torch.einsum("ibh,hnd->ibnd", pos_emb, self.r)
        ac = torch.einsum("ibnd,jbnd->bnij", q + self.r_w_bias, k)
        bd = self.rel_shift_bnij(torch.einsum("ibnd,jbnd->bnij", q + self.r_r_bias, k_r), klen=ac.shape[3])
        ef = torch.einsum("ibnd,snd->ibns", q + self.r_s_bias, self.seg_embed)
        ef = torch.einsum("ijbs,ibns->bnij", seg_mat, ef)
        score = (ac + bd + ef) * self.scale - 1e30 * torch.einsum("ijbn->bnij", attn_mask)
        prob = self.dropout(F.softmax(score, dim=3))
        vec = torch.einsum("bnij,jbnd->ibnd", prob, v)
        out = self.dropout(torch.einsum("ibnd,hnd->ibh", vec, self.o))
        return self.layer_norm(out + h)


class FeedForward(nn.Module):
    def __init__(self, h, inner, eps, p):
        super().__init__()
        self.layer_norm = nn.LayerNorm(h, eps=eps)
        self.layer_1, self.layer_2 = nn.Linear(h, inner), nn.Linear(inner, h)
        self.dropout = nn.Dropout(p)

    def forward(self, x):
        out = self.dropout(self.layer_2(self.dropout(F.gelu(self.layer_1(x)))))
        return self.layer_norm(out + x)


class Layer(nn.Module):
    def __init__(self, h, heads, inner, eps, p):
        super().__init__()
        self.rel_attn = RelativeAttention(h, heads, eps, p)
        self.ff = FeedForward(h, inner, eps, p)

    def forward(self, h, pos_emb, seg_mat, attn_mask):
        return self.ff(self.rel_attn(h, pos_emb, seg_mat, attn_mask))


class Classifier(nn.Module):
    def __init__(self, a):
        super().__init__()
        h = a.hidden
        self.h = h
        self.word_embedding = nn.Embedding(a.vocab, h)
        self.mask_emb = nn.Parameter(torch.randn(1, 1, h) * 0.02)  # the query stream's; no gradient here
        self.layer = nn.ModuleList(Layer(h, a.heads, a.intermediate, 1e-12, a.dropout) for _ in range(a.layers))
        self.dropout = nn.Dropout(a.dropout)
        self.summary, self.logits_proj = nn.Linear(h, h), nn.Linear(h, a.labels)

    def positions(self, t, bsz):
        """relative_positional_encoding for attn_type 'bi', clamp_len off: [2T, B, H]."""
        inv_freq = 1 / torch.pow(10000, torch.arange(0, self.h, 2.0) / self.h)
        pos_seq = torch.arange(t, -t, -1.0)
        sinusoid = torch.einsum("i,d->id", pos_seq, inv_freq)
        return torch.cat([torch.sin(sinusoid), torch.cos(sinusoid)], dim=-1)[:, None, :].expand(-1, bsz, -1)

    def forward(self, ids, mask, token_type_ids):
        ids, token_type_ids = ids.transpose(0, 1).contiguous(), token_type_ids.transpose(0, 1).contiguous()
        t, bsz = ids.shape
        input_mask = 1.0 - mask.transpose(0, 1).contiguous().float()
        attn_mask = input_mask[None, :, :, None]  # [1, T, B, 1]
        non_tgt_mask = -torch.eye(t)
        non_tgt_mask = ((attn_mask + non_tgt_mask[:, :, None, None]) > 0).float()
        h = self.dropout(self.word_embedding(ids))
        seg_mat = F.one_hot((token_type_ids[:, None] != token_type_ids[None, :]).long(), num_classes=2).to(h.dtype)
        pos_emb = self.dropout(self.positions(t, bsz).to(h.dtype))
        for layer in self.layer:
            h = layer(h, pos_emb, seg_mat, non_tgt_mask)
        out = self.dropout(h).permute(1, 0, 2)  # [B, T, H]
        return self.logits_proj(self.dropout(torch.tanh(self.summary(out[:, -1]))))


def main():
    p = argparse.ArgumentParser()
    for name, default in [("layers", 4), ("hidden", 256), ("heads", 4), ("intermediate", 1024), ("vocab", 32000),
                          ("labels", 2), ("seq", 128), ("batch", 16), ("steps", 20), ("warmup-steps", 3), ("threads", 2)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--lr", type=float, default=2e-5)
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = Classifier(a)
    no_decay = lambda n: "bias" in n or "layer_norm.weight" in n
    groups = [
        {"params": [p for n, p in model.named_parameters() if not no_decay(n)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if no_decay(n)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=a.lr)
    total = a.steps + a.warmup_steps
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, total // 10)) * max(0.0, (total - s) / total))
    ids = torch.randint(1, a.vocab, (a.batch, a.seq))
    mask = torch.ones(a.batch, a.seq, dtype=torch.long)
    types = torch.zeros(a.batch, a.seq, dtype=torch.long)
    labels = torch.randint(0, a.labels, (a.batch,))
    model.train()
    times, forward_times = [], []
    for step in range(total):
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(ids, mask, types), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        t1 = time.perf_counter()
        model.eval()
        with torch.no_grad():
            model(ids, mask, types)
        model.train()
        if step >= a.warmup_steps:
            times.append(t1 - t0)
            forward_times.append(time.perf_counter() - t1)
    med = statistics.median(times)
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({
        "impl": "pytorch", "model": "xlnet", "torch": torch.__version__, "threads": a.threads, "params": params,
        "layers": a.layers, "hidden": a.hidden, "seq": a.seq, "batch": a.batch, "steps": len(times),
        "step_ms_median": round(med * 1e3, 2), "forward_ms_median": round(statistics.median(forward_times) * 1e3, 2),
        "tokens_per_s": round(a.batch * a.seq / med, 1), "final_loss": round(loss.item(), 5),
    }))


if __name__ == "__main__":
    main()
