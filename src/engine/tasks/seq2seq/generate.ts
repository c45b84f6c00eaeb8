import type { Session } from '../../backend.js';
import { type TensorData, tensorOf } from '../../graph/types.js';
import { pastName, presentName } from '../../models/decoder.js';
import type { Seq2SeqArch } from '../../models/seq2seq.js';
import { argmax } from '../metrics/classification.js';
import { beamSearch, type StepDecoder } from './beam-search.js';
import type { Seq2SeqSearch } from './generation-config.js';
import { processScores, type ScoreProcessors } from './logits-processors.js';

/**
 * Generation with an encoder-decoder's two sessions (generation-graphs.ts), as transformers'
 * `generate` runs it: the encoder once per batch of sources (its cross-attention keys/values
 * repeated per beam, never recomputed), then the cached decoder one token per step for every row,
 * greedy (argmax, or `choose`, which samples) or beam search (beam-search.ts, the KV cache
 * reordered with the beams each step).
 *
 * Greedy rows that produced EOS are finished: they are fed the pad token from then on and their
 * outputs are ignored, as transformers' `unfinished_sequences` does, until every row is finished
 * or max_new_tokens is reached. `useCache: false` feeds the whole decoder prefix every step
 * (P = 0) through the same graph; the tests compare the two.
 */

export interface GeneratedIds {
  /** Generated ids, without the decoder start token and without the EOS that finished the row. */
  ids: number[];
  /** 'stop' when the row produced EOS, 'length' when max_new_tokens ended it (OpenAI's names). */
  finishReason: 'stop' | 'length';
  /** Beam search: the hypothesis' score (sum_logprobs / length ** length_penalty). */
  score?: number;
}

export interface Seq2SeqSessions {
  encoder: Pick<Session, 'run'>;
  decoder: Pick<Session, 'run'>;
}

/** Picks a row's next token from its processed logits (sampling); default argmax. */
export type ChooseToken = (scores: Float32Array) => number;

const int64 = (dims: number[], values: ArrayLike<number>): TensorData => tensorOf('int64', dims, values);

/** Rows of a [N, ...] tensor picked (and repeated) by index: beam expansion and the cache reorder. */
export function takeRows(t: TensorData, rows: readonly number[]): TensorData {
  const n = t.dims[0] as number;
  const size = n === 0 ? 0 : t.data.length / n;
  const data = new Float32Array(rows.length * size);
  rows.forEach((r, i) => {
    data.set((t.data as Float32Array).subarray(r * size, (r + 1) * size), i * size);
  });
  return { dtype: 'float32', dims: [rows.length, ...t.dims.slice(1)], data };
}

/** The decoder step session over `rows` rows, with its KV cache (or the whole prefix each step). */
class SessionDecoder implements StepDecoder {
  private past: Record<string, TensorData> = {};

  constructor(
    private readonly session: Pick<Session, 'run'>,
    private readonly arch: Seq2SeqArch,
    private readonly fixed: Record<string, TensorData>,
    rows: number,
    private readonly useCache: boolean,
  ) {
    const empty: TensorData = {
      dtype: 'float32',
      dims: [rows, arch.heads, 0, arch.headDim],
      data: new Float32Array(0),
    };
    for (let i = 0; i < arch.decoderLayers; i++)
      for (const kind of ['key', 'value'] as const) this.past[pastName(i, kind)] = empty;
  }

  async next(sequences: readonly (readonly number[])[]) {
    const fed = this.useCache ? sequences.map((s) => s.slice(-1)) : sequences;
    const T = (fed[0] as readonly number[]).length;
    const out = await this.session.run({
      decoder_input_ids: int64([fed.length, T], fed.flat()),
      ...this.fixed,
      ...this.past,
    });
    if (this.useCache)
      for (let i = 0; i < this.arch.decoderLayers; i++)
        for (const kind of ['key', 'value'] as const)
          this.past[pastName(i, kind)] = out[presentName(i, kind)] as TensorData;
    const logits = out.logits as TensorData;
    return { logits: logits.data as Float32Array, vocab: logits.dims.at(-1) as number };
  }

  reorder(from: readonly number[]): void {
    if (!this.useCache || from.every((r, i) => r === i)) return;
    for (const [name, t] of Object.entries(this.past)) this.past[name] = takeRows(t, from);
  }
}

/** Generates for a batch of tokenized sources; `numReturnSequences` results per source, in source order. */
export async function generateIds(
  sessions: Seq2SeqSessions,
  arch: Seq2SeqArch,
  sources: readonly (readonly number[])[],
  s: Seq2SeqSearch,
  o: { useCache?: boolean; choose?: ChooseToken } = {},
): Promise<GeneratedIds[]> {
  const B = sources.length;
  const perSource = s.numReturnSequences;
  if (B === 0) return [];
  if (s.maxNewTokens === 0)
    return Array.from({ length: B * perSource }, () => ({ ids: [], finishReason: 'length' as const }));
  const S = Math.max(1, ...sources.map((r) => r.length));
  const mask = int64(
    [B, S],
    sources.flatMap((r) => Array.from({ length: S }, (_, i) => (i < r.length ? 1 : 0))),
  );
  const ids = int64(
    [B, S],
    sources.flatMap((r) => Array.from({ length: S }, (_, i) => r[i] ?? s.padTokenId)),
  );
  const cross = await sessions.encoder.run({ input_ids: ids, attention_mask: mask });
  const nb = s.numBeams;
  // Each source's rows repeated per beam (transformers' _expand_inputs_for_generation).
  const expand = Array.from({ length: B * nb }, (_, r) => Math.floor(r / nb));
  const fixed: Record<string, TensorData> = {
    encoder_attention_mask: nb === 1 ? mask : int64([B * nb, S], expandInts(mask, expand, S)),
  };
  for (const [name, t] of Object.entries(cross)) fixed[name] = nb === 1 ? t : takeRows(t, expand);
  const decoder = new SessionDecoder(sessions.decoder, arch, fixed, B * nb, o.useCache ?? true);
  const processors: ScoreProcessors = { ...s, maxLength: s.maxNewTokens + 1 };
  if (nb === 1) return greedy(decoder, B, s, processors, o.choose);
  const found = await beamSearch(decoder, B, { ...s, ...processors });
  return found.flatMap((hyps) =>
    hyps.map((h) => ({ ids: h.ids, finishReason: h.eos ? ('stop' as const) : ('length' as const), score: h.score })),
  );
}

function expandInts(t: TensorData, rows: readonly number[], width: number): number[] {
  const data = t.data as BigInt64Array | Int32Array;
  return rows.flatMap((r) => Array.from({ length: width }, (_, i) => Number(data[r * width + i])));
}

/** Greedy search (or sampling through `choose`) with per-row finish. */
async function greedy(
  decoder: StepDecoder,
  B: number,
  s: Seq2SeqSearch,
  processors: ScoreProcessors,
  choose: ChooseToken = (scores) => argmax(scores),
): Promise<GeneratedIds[]> {
  const eos = new Set(s.eosTokenIds);
  const sequences: number[][] = Array.from({ length: B }, () => [s.decoderStartTokenId]);
  const finished = new Array<boolean>(B).fill(false);
  for (let step = 0; step < s.maxNewTokens && finished.includes(false); step++) {
    const { logits, vocab } = await decoder.next(sequences);
    sequences.forEach((seq, b) => {
      // transformers: next = next * unfinished + pad * (1 − unfinished).
      let next = s.padTokenId;
      if (!finished[b]) {
        const scores = logits.slice(b * vocab, (b + 1) * vocab);
        processScores(scores, seq, processors);
        next = choose(scores);
      }
      seq.push(next);
      if (!finished[b] && eos.has(next)) finished[b] = true;
    });
  }
  return sequences.map((seq) => {
    const generated = seq.slice(1);
    const end = generated.findIndex((id) => eos.has(id));
    return { ids: end < 0 ? generated : generated.slice(0, end), finishReason: end < 0 ? 'length' : 'stop' };
  });
}
