import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TensorData } from '../graph/types.js';
import { createSession } from '../runtime.js';
import { Tokenizer } from '../tokenize/index.js';

/**
 * Inference latency of an encoder model's exported model.onnx (a run's final/ folder): one example
 * at a time (batch 1), as a served request would run it. Only `session.run` is timed: tokenizing
 * costs the same for a teacher and a student sharing a tokenizer, and is not the model's cost.
 */
export interface LatencyReport {
  /** Median milliseconds of one forward pass at batch 1. */
  median_ms: number;
  /** 90th percentile, same unit. */
  p90_ms: number;
  /** Timed examples (after the warm-up). */
  examples: number;
  /** ORT intra-op threads used. */
  threads: number;
}

const WARMUP = 3;

function int64(values: readonly number[]): TensorData {
  return { dtype: 'int64', dims: [1, values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) };
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/**
 * Times model.onnx of `folder` on each of `texts` (cut at `maxLength` tokens, as in training); see
 * measureSequenceLatency.
 */
export function measureLatency(
  folder: string,
  texts: readonly string[],
  o: { maxLength: number; threads?: number },
): Promise<LatencyReport> {
  const tokenizer = Tokenizer.fromFolder(folder);
  const sequences = texts.map((text) => {
    const e = tokenizer.encode(text, null, { maxLength: o.maxLength });
    return { inputIds: e.ids, tokenTypeIds: e.tokenTypeIds };
  });
  return measureSequenceLatency(folder, sequences, o.threads);
}

/**
 * Times model.onnx of `folder` on each tokenized sequence, one at a time, on CPU with `threads`
 * intra-op threads (default 1: a small model's batch-1 pass gains little from more, and one thread
 * keeps the figure comparable between machines).
 */
export async function measureSequenceLatency(
  folder: string,
  sequences: readonly { inputIds: readonly number[]; tokenTypeIds: readonly number[] }[],
  threads = 1,
): Promise<LatencyReport> {
  if (sequences.length === 0) throw new Error('measureLatency: no examples to time');
  const session = await createSession(readFileSync(join(folder, 'model.onnx')), { device: 'cpu', threads });
  try {
    const feeds = sequences.map((s) => {
      const all: Record<string, TensorData> = {
        input_ids: int64(s.inputIds),
        attention_mask: int64(s.inputIds.map(() => 1)),
        token_type_ids: int64(s.tokenTypeIds.length === s.inputIds.length ? s.tokenTypeIds : s.inputIds.map(() => 0)),
      };
      return Object.fromEntries(session.inputNames.map((name) => [name, all[name] ?? missingInput(folder, name)]));
    });
    for (let i = 0; i < WARMUP; i++) await session.run(feeds[i % feeds.length] as Record<string, TensorData>);
    const times: number[] = [];
    for (const feed of feeds) {
      const t0 = performance.now();
      await session.run(feed);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { median_ms: quantile(times, 0.5), p90_ms: quantile(times, 0.9), examples: times.length, threads };
  } finally {
    await session.dispose();
  }
}

function missingInput(folder: string, name: string): never {
  throw new Error(
    `${folder}/model.onnx: input '${name}' is not one an encoder takes (input_ids, attention_mask, token_type_ids)`,
  );
}
