#!/usr/bin/env python3
"""PyTorch peer for the `bert-base-lora` case: BERT's sequence classifier with LoRA on query and value.

The model is shared/bench/torch_reference.py's (imported from there, beside the repository, so that
the full and LoRA cases measure the same network); PEFT's LoraConfig(task_type="SEQ_CLS", r, alpha,
target_modules=["query", "value"], lora_dropout=0.1) is written out in plain PyTorch: each targeted
Linear keeps its frozen weight and adds dropout(x) @ A^T @ B^T * alpha / r (A Kaiming-uniform with
a=sqrt(5), B zeros, as peft/tuners/lora/layer.py), and the pooler and classifier are trained in full
(SEQ_CLS's modules_to_save). Everything else is frozen. AdamW and the schedule as the full case.

Needs PyTorch: on Debian 12, `apt-get install -y python3-torch libopenblas0-pthread`, run with /usr/bin/python3.
Development and benchmarking only: never shipped, never imported by the product.

  /usr/bin/python3 bench/torch/bert_lora_reference.py --layers 12 --hidden 768 --heads 12 \
      --intermediate 3072 --seq 128 --batch 8 --steps 10 --warmup-steps 3 --threads 2 --lora-r 8 --lora-alpha 16

Output: one JSON line {"impl": "pytorch", "tokens_per_s": ..., "step_ms_median": ..., ...}, the
fields of shared/bench/torch_reference.py; the caller reads peak RSS itself.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "bench"))
from torch_reference import Classifier  # noqa: E402


class LoraLinear(nn.Module):
    def __init__(self, base, r, alpha, p):
        super().__init__()
        self.base, self.scale, self.drop = base, alpha / r, nn.Dropout(p)
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

    def forward(self, x):
        return self.base(x) + (self.drop(x) @ self.lora_A.t() @ self.lora_B.t()) * self.scale


def main():
    p = argparse.ArgumentParser()
    for name, default in [("layers", 12), ("hidden", 768), ("heads", 12), ("intermediate", 3072), ("vocab", 30522),
                          ("labels", 2), ("seq", 128), ("batch", 8), ("steps", 10), ("warmup-steps", 3), ("threads", 2),
                          ("lora-r", 8), ("lora-alpha", 16)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--lr", type=float, default=2e-5)
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = Classifier(a)
    for prm in model.parameters():
        prm.requires_grad_(False)
    for layer in model.layers:
        layer.q = LoraLinear(layer.q, a.lora_r, a.lora_alpha, a.dropout)
        layer.v = LoraLinear(layer.v, a.lora_r, a.lora_alpha, a.dropout)
    for head in (model.pool, model.cls):
        for prm in head.parameters():
            prm.requires_grad_(True)
    trained = [(n, prm) for n, prm in model.named_parameters() if prm.requires_grad]
    groups = [
        {"params": [prm for n, prm in trained if not n.endswith("bias")], "weight_decay": 0.01},
        {"params": [prm for n, prm in trained if n.endswith("bias")], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=a.lr)
    total = a.steps + a.warmup_steps
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, total // 10)) * max(0.0, (total - s) / total))
    ids = torch.randint(1, a.vocab, (a.batch, a.seq))
    mask = torch.ones(a.batch, a.seq, dtype=torch.long)
    labels = torch.randint(0, a.labels, (a.batch,))
    model.train()
    times = []
    for step in range(total):
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(ids, mask), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([prm for _, prm in trained], 1.0)
        opt.step()
        sched.step()
        if step >= a.warmup_steps:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(json.dumps({
        "impl": "pytorch", "model": "bert-lora", "torch": torch.__version__, "threads": a.threads,
        "params": sum(prm.numel() for prm in model.parameters()), "trainable": sum(prm.numel() for _, prm in trained),
        "layers": a.layers, "hidden": a.hidden, "seq": a.seq, "batch": a.batch, "steps": len(times),
        "step_ms_median": round(med * 1e3, 2), "tokens_per_s": round(a.batch * a.seq / med, 1),
        "final_loss": round(loss.item(), 5),
    }))


if __name__ == "__main__":
    main()
