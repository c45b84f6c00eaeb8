#!/usr/bin/env python3
"""PyTorch peer of `npm run bench -- --only serve`: a served classifier, without HTTP.

The model is shared/bench/torch_reference.py's Classifier (BertForSequenceClassification's
layout), eval mode, random weights, run under torch.inference_mode(). The serving loop follows
`finetune serve`'s batch policy (src/engine/serve/batcher.ts): `--concurrency` client threads
each tokenize a text (whitespace split + vocabulary lookup: the synthetic WordPiece vocabulary
`w5 ... w30521`, one token per word, with [CLS] and [SEP]), put it on a queue and wait for its
answer; one worker takes the first waiting request, then more until `--max-batch` are taken or
`--max-wait-ms` have passed since the first, runs them as one padded batch and answers each
with its softmaxed label and score. No HTTP, no JSON: the engine's figures include both.

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/torch/serve_reference.py \
      --reference ../shared/bench/torch_reference.py --concurrency 32 --seconds 8

Prints one JSON line per concurrency: {"impl": "pytorch", "concurrency", "requests",
"requests_per_s", "p50_ms", "p99_ms", ...}.
"""
import argparse
import importlib.util
import json
import math
import queue
import threading
import time

import torch

SPECIALS = 5  # [PAD] [UNK] [CLS] [SEP] [MASK]
CLS, SEP, UNK = 2, 3, 1


def text(words, seed, vocab):
    """The bench's request texts (src/tools/bench/serve-models.ts classifierText)."""
    return " ".join(f"w{SPECIALS + ((seed * 7919 + i * 104729) % (vocab - 5))}" for i in range(words))


def main():
    p = argparse.ArgumentParser()
    for name, default in [("layers", 4), ("hidden", 256), ("heads", 4), ("intermediate", 1024), ("vocab", 30522),
                          ("labels", 2), ("seq", 128), ("threads", 2), ("max-batch", 16), ("max-wait-ms", 5)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--concurrency", default="1,8,32")
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--warmup-seconds", type=float, default=2.0)
    p.add_argument("--reference", required=True, help="path of shared/bench/torch_reference.py (its Classifier)")
    a = p.parse_args()
    spec = importlib.util.spec_from_file_location("torch_reference", a.reference)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    a.dropout = 0.1
    model = ref.Classifier(a).eval()
    vocab = {f"w{i}": i for i in range(SPECIALS, a.vocab)}
    texts = [text(a.seq - 2, i, a.vocab) for i in range(64)]

    requests = queue.Queue()

    def worker(stop):
        while not stop.is_set():
            try:
                first = requests.get(timeout=0.05)
            except queue.Empty:
                continue
            batch = [first]
            deadline = time.perf_counter() + a.max_wait_ms / 1000
            while len(batch) < a.max_batch:
                left = deadline - time.perf_counter()
                if left <= 0:
                    break
                try:
                    batch.append(requests.get(timeout=left))
                except queue.Empty:
                    break
            width = max(len(ids) for ids, _ in batch)
            ids = torch.zeros(len(batch), width, dtype=torch.long)
            mask = torch.zeros(len(batch), width, dtype=torch.long)
            for b, (row, _) in enumerate(batch):
                ids[b, : len(row)] = torch.tensor(row)
                mask[b, : len(row)] = 1
            with torch.inference_mode():
                probs = model(ids, mask).softmax(-1)
            scores, labels = probs.max(-1)
            for b, (_, answer) in enumerate(batch):
                answer.put((int(labels[b]), float(scores[b])))

    for concurrency in [int(c) for c in a.concurrency.split(",")]:
        stop = threading.Event()
        serving = threading.Thread(target=worker, args=(stop,), daemon=True)
        serving.start()
        start = time.perf_counter()
        measure_from = start + a.warmup_seconds
        end = measure_from + a.seconds
        latencies = []
        lock = threading.Lock()

        def client(k):
            i = k
            answer = queue.Queue(maxsize=1)
            while time.perf_counter() < end:
                t0 = time.perf_counter()
                row = [CLS] + [vocab.get(w, UNK) for w in texts[i % len(texts)].lower().split()] + [SEP]
                requests.put((row, answer))
                answer.get()
                t1 = time.perf_counter()
                i += concurrency
                if measure_from <= t1 <= end:
                    with lock:
                        latencies.append(t1 - t0)

        clients = [threading.Thread(target=client, args=(k,)) for k in range(concurrency)]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        stop.set()
        serving.join()
        latencies.sort()
        # Nearest rank; None when no answer arrived inside the window (a starved machine).
        rank = lambda q: latencies[max(1, math.ceil(q / 100 * len(latencies))) - 1] if latencies else math.nan
        print(json.dumps({
            "impl": "pytorch", "torch": torch.__version__, "threads": a.threads, "concurrency": concurrency,
            "max_batch": a.max_batch, "max_wait_ms": a.max_wait_ms, "seq": a.seq, "requests": len(latencies),
            "requests_per_s": round(len(latencies) / a.seconds, 2),
            "p50_ms": None if not latencies else round(rank(50) * 1e3, 2),
            "p99_ms": None if not latencies else round(rank(99) * 1e3, 2),
        }), flush=True)


if __name__ == "__main__":
    main()
