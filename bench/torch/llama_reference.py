#!/usr/bin/env python3
"""PyTorch reference numbers for the Llama-like decoders (llama, mistral, qwen2, qwen3, phi3).

Pure PyTorch, no transformers: the math of transformers' modeling_llama.py, modeling_mistral.py,
modeling_qwen2.py, modeling_qwen3.py and modeling_phi3.py written out here (RMSNorm, rotary
embeddings with rotate_half and the `linear` / `llama3` rope_scaling of modeling_rope_utils.py,
grouped-query attention through repeat_kv, SwiGLU, Qwen3's q_norm/k_norm, Phi-3's fused
qkv_proj/gate_up_proj and partial rotary), reading config.json and the safetensors weights
(bfloat16, float16 or float32) with json/struct, computing in float32.

For each fixture folder under the given directory (written by
`npx tsx bench/torch/write-decoder-fixtures.ts <dir>`, the folders test/engine/llama-torch.test.ts
builds) it prints one JSON line: the eval loss on the folder's batch.json (mean next-token
cross-entropy over labels != -100), the rotary inverse frequencies, and the losses of a full
fine-tune on that batch: torch.optim.AdamW (betas 0.9/0.999, eps 1e-8, weight decay 0.01 on every
parameter except biases and norm weights, as the engine's DEFAULT_NO_DECAY), clip_grad_norm_ 1.0,
constant learning rate 1e-2, one optimizer step per call, loss recorded before each update.

  npx tsx bench/torch/write-decoder-fixtures.ts /tmp/decoders
  /usr/bin/python3 bench/torch/llama_reference.py /tmp/decoders
"""
import json
import math
import os
import re
import struct
import sys

import torch
import torch.nn.functional as F

STEPS = 6
LR = 1e-2
WEIGHT_DECAY = 0.01
MAX_GRAD_NORM = 1.0
DTYPES = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}


def read_safetensors(path):
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        body = f.read()
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        t = torch.frombuffer(bytearray(body[start:end]), dtype=DTYPES[entry["dtype"]])
        out[name] = t.reshape(entry["shape"]).float()
    return out


def read_weights(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    if not os.path.exists(index):
        return read_safetensors(os.path.join(folder, "model.safetensors"))
    with open(index) as f:
        shards = sorted(set(json.load(f)["weight_map"].values()))
    out = {}
    for shard in shards:
        out.update(read_safetensors(os.path.join(folder, shard)))
    return out


def inv_freq_of(cfg, head_dim):
    """modeling_rope_utils: _compute_default_rope_parameters, then linear / llama3 scaling."""
    dim = int(head_dim * cfg.get("partial_rotary_factor", 1.0))
    base = cfg.get("rope_theta", 10000.0)
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    scaling = cfg.get("rope_scaling")
    if not scaling:
        return inv_freq
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind == "linear":
        return inv_freq / scaling["factor"]
    assert kind == "llama3", kind
    factor = scaling["factor"]
    low_freq_factor = scaling["low_freq_factor"]
    high_freq_factor = scaling["high_freq_factor"]
    old_context_len = scaling["original_max_position_embeddings"]
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)


def rms_norm(x, w, eps):
    variance = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(variance + eps))


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary(x, cos, sin):
    rot = cos.shape[-1]
    x_rot, x_pass = x[..., :rot], x[..., rot:]
    return torch.cat([(x_rot * cos) + (rotate_half(x_rot) * sin), x_pass], dim=-1)


def repeat_kv(x, n_rep):
    b, kv, t, d = x.shape
    if n_rep == 1:
        return x
    return x[:, :, None, :, :].expand(b, kv, n_rep, t, d).reshape(b, kv * n_rep, t, d)


def forward(cfg, p, input_ids, attention_mask):
    kind = cfg["model_type"]
    hidden = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    kv_heads = cfg.get("num_key_value_heads") or heads
    head_dim = cfg.get("head_dim") or hidden // heads
    eps = cfg["rms_norm_eps"]
    inter = cfg["intermediate_size"]
    b, t = input_ids.shape
    h = p["model.embed_tokens.weight"][input_ids]
    # LlamaModel without position_ids: arange over the sequence (right padding).
    positions = torch.arange(t).float()[None, :].expand(b, t)
    inv_freq = inv_freq_of(cfg, head_dim)
    freqs = (inv_freq[None, :, None].expand(b, -1, 1) @ positions[:, None, :]).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]
    min_value = torch.finfo(torch.float32).min
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
    keep = causal[None, None] & attention_mask[:, None, None, :].bool()
    mask = torch.zeros(b, 1, t, t).masked_fill(~keep, min_value)

    def lin(x, name):
        y = x @ p[name + ".weight"].T
        return y + p[name + ".bias"] if name + ".bias" in p else y

    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}"
        att = pre + ".self_attn"
        x = rms_norm(h, p[pre + ".input_layernorm.weight"], eps)
        if kind == "phi3":
            qkv = lin(x, att + ".qkv_proj")
            qp = heads * head_dim
            q = qkv[..., :qp]
            k = qkv[..., qp : qp + kv_heads * head_dim]
            v = qkv[..., qp + kv_heads * head_dim :]
        else:
            q, k, v = lin(x, att + ".q_proj"), lin(x, att + ".k_proj"), lin(x, att + ".v_proj")
        q = q.view(b, t, -1, head_dim)
        k = k.view(b, t, -1, head_dim)
        if kind == "qwen3":
            q = rms_norm(q, p[att + ".q_norm.weight"], eps)
            k = rms_norm(k, p[att + ".k_norm.weight"], eps)
        q = apply_rotary(q.transpose(1, 2), cos, sin)
        k = apply_rotary(k.transpose(1, 2), cos, sin)
        v = v.view(b, t, -1, head_dim).transpose(1, 2)
        k, v = repeat_kv(k, heads // kv_heads), repeat_kv(v, heads // kv_heads)
        scores = torch.matmul(q, k.transpose(2, 3)) * head_dim**-0.5 + mask
        probs = F.softmax(scores, dim=-1, dtype=torch.float32)
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(b, t, -1)
        h = h + lin(ctx, att + ".o_proj")
        x = rms_norm(h, p[pre + ".post_attention_layernorm.weight"], eps)
        if kind == "phi3":
            gate, up = lin(x, pre + ".mlp.gate_up_proj").chunk(2, dim=-1)
        else:
            gate, up = lin(x, pre + ".mlp.gate_proj"), lin(x, pre + ".mlp.up_proj")
        h = h + lin(F.silu(gate) * up, pre + ".mlp.down_proj")
    h = rms_norm(h, p["model.norm.weight"], eps)
    head = p["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else p["lm_head.weight"]
    return h @ head.T


def loss_of(cfg, p, batch):
    logits = forward(cfg, p, batch["input_ids"], batch["attention_mask"])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch["labels"].reshape(-1), ignore_index=-100)


NO_DECAY = [re.compile(r"(^|\.)bias$"), re.compile(r"layernorm|layer_norm|(^|\.)ln_|norm\.weight$", re.I)]


def run(folder):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(folder, "batch.json")) as f:
        batch = {k: torch.tensor(v, dtype=torch.int64) for k, v in json.load(f).items()}
    weights = read_weights(folder)
    params = {
        n: torch.nn.Parameter(w)
        for n, w in weights.items()
        if not n.endswith("rotary_emb.inv_freq") and not (n == "lm_head.weight" and cfg.get("tie_word_embeddings"))
    }
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    with torch.no_grad():
        eval_loss = loss_of(cfg, params, batch).item()
    decay = [w for n, w in params.items() if not any(r.search(n) for r in NO_DECAY)]
    plain = [w for n, w in params.items() if any(r.search(n) for r in NO_DECAY)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": plain, "weight_decay": 0.0}],
        lr=LR,
        betas=(0.9, 0.999),
        eps=1e-8,
    )
    trajectory = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_of(cfg, params, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), MAX_GRAD_NORM)
        opt.step()
        trajectory.append(loss.item())
    return {
        "fixture": os.path.basename(folder),
        "eval_loss": eval_loss,
        "inv_freq": inv_freq_of(cfg, head_dim).tolist(),
        "trajectory": trajectory,
    }


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    root = sys.argv[1]
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if os.path.exists(os.path.join(folder, "config.json")):
            print(json.dumps(run(folder)))
    print(json.dumps({"torch": torch.__version__}))


if __name__ == "__main__":
    main()
