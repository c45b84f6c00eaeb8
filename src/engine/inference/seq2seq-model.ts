import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_MODEL_JSON_BYTES } from '../../shared/limits.js';
import { generationStopIds } from '../chat/generation-config.js';
import { GraphBuilder } from '../graph/builder.js';
import { Graph, pruneToOutputs } from '../graph/graph.js';
import { encodeModel } from '../graph/onnx-codec.js';
import { type TensorData, tensorNumbers, tensorOf, type Value } from '../graph/types.js';
import { readHfConfig } from '../io/hf-config.js';
import { loadPretrained } from '../io/pretrained.js';
import type { KeyValue } from '../models/decoder.js';
import type { Seq2SeqFamily } from '../models/family.js';
import { HfConfigReader } from '../models/hf-config.js';
import type { Weights } from '../models/model.js';
import { seq2seqFamilyOf } from '../models/registry.js';
import type { Seq2Seq } from '../models/seq2seq.js';
import { createSession, type DeviceChoice, type SessionOptions } from '../runtime.js';
import { argmax } from '../tasks/metrics/classification.js';
import { Tokenizer } from '../tokenize/index.js';
import { readJsonBounded } from '../util/bounded-read.js';
import { frozenParams, pastName, presentName } from './causal-lm-model.js';
import { modelFolderOf } from './finetuned-model.js';
import {
  crossName,
  hasSeq2SeqOnnxLayout,
  openSeq2SeqOnnxLayout,
  SEQ2SEQ_ONNX_FILES,
  type Seq2SeqSessions,
} from './seq2seq-onnx-layout.js';

/**
 * An encoder-decoder folder (T5ForConditionalGeneration: a translation or summarization run's
 * final/) generating text, as transformers' `generate` does for it with greedy search:
 *
 * - the encoder graph runs once per batch of sources and returns, per decoder block, the
 *   cross-attention keys/values of its output (`cross.<i>.key|value`, [B, heads, S, head_dim]);
 * - the decoder step graph takes decoder_input_ids [B, T], the source mask, those cross keys/values
 *   and the past self-attention keys/values (`past_key_values.<i>.key|value`, P = 0 at first) and
 *   returns the logits of the last position and the present keys/values (P + T);
 * - decoding starts from decoder_start_token_id, picks the argmax, and a row that produced EOS is
 *   finished: it is fed the pad token from then on and its outputs are ignored, as transformers'
 *   `unfinished_sequences` does, until every row is finished or max_new_tokens is reached.
 *
 * `useCache: false` feeds the whole decoder prefix every step (P = 0) through the same graph; the
 * tests compare the two. Beam search would replace `greedy` below (a choice of next tokens and a
 * reorder of the cache per step); this slice has greedy search only.
 */

export { crossName } from './seq2seq-onnx-layout.js';

/** What generation_config.json (else config.json, else transformers' GenerationConfig) says about decoding. */
export interface Seq2SeqGenerationDefaults {
  decoderStartTokenId: number;
  /** Ids that finish a row (generation_config.json's eos_token_id, a number or a list). */
  eosTokenIds: number[];
  padTokenId: number;
  /** max_new_tokens, else max_length − 1 (max_length counts the decoder start token), else 19 (max_length 20). */
  maxNewTokens: number;
}

export function seq2seqGenerationDefaults(folder: string, arch: Seq2Seq['arch']): Seq2SeqGenerationDefaults {
  const path = join(folder, 'generation_config.json');
  const config = existsSync(path)
    ? (readJsonBounded(path, MAX_MODEL_JSON_BYTES, 'a generation_config.json') as Record<string, unknown>)
    : {};
  const int = (key: string, min: number): number | undefined => {
    const v = config[key];
    if (v === undefined || v === null) return undefined;
    if (!Number.isInteger(v) || (v as number) < min)
      throw new Error(`${path}: key '${key}' must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const maxNew = int('max_new_tokens', 0);
  const maxLength = int('max_length', 1);
  return {
    decoderStartTokenId: int('decoder_start_token_id', 0) ?? arch.decoderStartTokenId,
    eosTokenIds: generationStopIds(folder, [arch.eosTokenId]),
    padTokenId: int('pad_token_id', 0) ?? arch.padTokenId,
    maxNewTokens: maxNew ?? (maxLength ?? 20) - 1,
  };
}

const output = (g: GraphBuilder, v: Value, name: string) =>
  g.output(g.op('Identity', [v], {}, { outputNames: [name] })[0] as Value);

/** input_ids, attention_mask [B, S] -> per decoder block `cross.<i>.key|value`. */
export function encoderGraph(seq2seq: Seq2Seq, weights: Weights): Graph {
  const g = new GraphBuilder(new Graph('seq2seq_encoder'));
  const ids = g.input('input_ids', 'int64', ['batch', 'source']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'source']);
  const ctx = seq2seq.context(g, frozenParams(g, weights), 'eval');
  const hidden = g.scope('encoder', () => seq2seq.encode(ctx, { inputIds: ids, attentionMask: mask }));
  const cross = g.scope('decoder', () => seq2seq.crossKeyValues(ctx, hidden));
  cross.forEach((kv, i) => {
    output(g, kv.key, crossName(i, 'key'));
    output(g, kv.value, crossName(i, 'value'));
  });
  return pruneToOutputs(g.graph);
}

/** decoder_input_ids [B, T], encoder_attention_mask, past and cross keys/values -> last `logits` [B, 1, V], `present.*`. */
export function decoderStepGraph(seq2seq: Seq2Seq, weights: Weights): Graph {
  const { arch } = seq2seq;
  const g = new GraphBuilder(new Graph('seq2seq_decoder'));
  const ids = g.input('decoder_input_ids', 'int64', ['batch', 'target']);
  const encoderMask = g.input('encoder_attention_mask', 'int64', ['batch', 'source']);
  const kvInputs = (name: (i: number, kind: 'key' | 'value') => string, length: string): KeyValue[] =>
    Array.from({ length: arch.decoderLayers }, (_, i) => ({
      key: g.input(name(i, 'key'), 'float32', ['batch', arch.heads, length, arch.headDim]),
      value: g.input(name(i, 'value'), 'float32', ['batch', arch.heads, length, arch.headDim]),
    }));
  const past = kvInputs(pastName, 'past');
  const cross = kvInputs(crossName, 'source');
  const ctx = seq2seq.context(g, frozenParams(g, weights), 'eval');
  const out = g.scope('decoder', () => seq2seq.decodeCached(ctx, { inputIds: ids, encoderMask, past, cross }));
  const last = g.slice(out.hidden, [-1], [Number.MAX_SAFE_INTEGER], [1]); // [B, 1, H]
  const logits = g.scope('lm_head', () => seq2seq.lmHead(ctx, g.withShape(last, ['batch', 1, arch.hidden])));
  output(g, logits, 'logits');
  out.present.forEach((kv, i) => {
    output(g, kv.key, presentName(i, 'key'));
    output(g, kv.value, presentName(i, 'value'));
  });
  return pruneToOutputs(g.graph);
}

export interface Seq2SeqGeneration {
  /** Generated ids, without the decoder start token and without the EOS that finished the row. */
  ids: number[];
  /** The decoded ids, special tokens skipped. */
  text: string;
  /** 'stop' when the row produced EOS, 'length' when max_new_tokens ended it (OpenAI's names). */
  finishReason: 'stop' | 'length';
}

export interface Seq2SeqGenerationOptions {
  /** Tokens to generate at most per row (default: generation_config.json's). */
  maxNewTokens?: number;
  /** KV cache (default true); false recomputes the whole decoder prefix every step. */
  useCache?: boolean;
}

export interface LoadedSeq2Seq {
  folder: string;
  tokenizer: Tokenizer;
  seq2seq: Seq2Seq;
  defaults: Seq2SeqGenerationDefaults;
  /** Greedy generation for a batch of sources (texts, tokenized with their special tokens, or ids). */
  generate(
    sources: readonly (string | readonly number[])[],
    o?: Seq2SeqGenerationOptions,
  ): Promise<Seq2SeqGeneration[]>;
  dispose(): Promise<void>;
}

const int64 = (dims: number[], values: ArrayLike<number>): TensorData => tensorOf('int64', dims, values);

/** The engine's own encoder and decoder-step graphs over a model folder's weights (safetensors). */
async function graphSessions(
  folder: string,
  family: Seq2SeqFamily,
  seq2seq: Seq2Seq,
  options: SessionOptions,
): Promise<Seq2SeqSessions> {
  const loaded = loadPretrained(folder, seq2seq.params, { basePrefix: family.basePrefix });
  if (loaded.missing.length > 0)
    throw new Error(
      `${folder}: the checkpoint lacks ${loaded.missing.join(', ')}: not a complete ${family.name} model (an ONNX export needs ${Object.values(SEQ2SEQ_ONNX_FILES).join(', ')})`,
    );
  const encoder = await createSession(encodeModel(encoderGraph(seq2seq, loaded.weights)), options);
  const decoder = await createSession(encodeModel(decoderStepGraph(seq2seq, loaded.weights)), options).catch(
    async (err: unknown) => {
      await encoder.dispose();
      throw err;
    },
  );
  return {
    encode: (feeds) => encoder.run(feeds),
    step: (feeds) => decoder.run(feeds),
    async dispose() {
      await Promise.allSettled([encoder.dispose(), decoder.dispose()]);
    },
  };
}

export async function loadSeq2Seq(
  path: string,
  o: { device?: DeviceChoice; threads?: number } = {},
): Promise<LoadedSeq2Seq> {
  const folder = modelFolderOf(path);
  const cfg = new HfConfigReader(readHfConfig(folder), `${folder}/config.json`);
  const family = seq2seqFamilyOf(cfg);
  const seq2seq = family.seq2seq(cfg);
  const tokenizer = Tokenizer.fromFolder(folder);
  const defaults = seq2seqGenerationDefaults(folder, seq2seq.arch);
  const options = { device: o.device ?? 'cpu', ...(o.threads ? { threads: o.threads } : {}) } as const;
  // An export in Optimum's layout runs its own files; a model folder builds the graphs from its weights.
  const sessions = hasSeq2SeqOnnxLayout(folder)
    ? await openSeq2SeqOnnxLayout(folder, seq2seq.arch, options)
    : await graphSessions(folder, family, seq2seq, options);
  const { arch } = seq2seq;

  async function generate(
    sources: readonly (string | readonly number[])[],
    g: Seq2SeqGenerationOptions = {},
  ): Promise<Seq2SeqGeneration[]> {
    const maxNew = g.maxNewTokens ?? defaults.maxNewTokens;
    if (!(Number.isInteger(maxNew) && maxNew >= 0))
      throw new Error(`generation: max_new_tokens must be a non-negative integer, got ${maxNew}`);
    if (sources.length === 0) return [];
    const rows = sources.map((s) => (typeof s === 'string' ? tokenizer.encode(s, null).ids : [...s]));
    const B = rows.length;
    const S = Math.max(1, ...rows.map((r) => r.length));
    const mask = int64(
      [B, S],
      rows.flatMap((r) => Array.from({ length: S }, (_, s) => (s < r.length ? 1 : 0))),
    );
    const ids = int64(
      [B, S],
      rows.flatMap((r) => Array.from({ length: S }, (_, s) => r[s] ?? defaults.padTokenId)),
    );
    const cross = await sessions.encode({ input_ids: ids, attention_mask: mask });
    return greedy(B, mask, cross, maxNew, g.useCache ?? true);
  }

  /** Greedy search with per-row finish; beam search would take its place with the same feeds. */
  async function greedy(
    B: number,
    encoderMask: TensorData,
    cross: Record<string, TensorData>,
    maxNew: number,
    useCache: boolean,
  ): Promise<Seq2SeqGeneration[]> {
    const eos = new Set(defaults.eosTokenIds);
    const sequences: number[][] = Array.from({ length: B }, () => [defaults.decoderStartTokenId]);
    const finished = new Array<boolean>(B).fill(false);
    const emptyPast: TensorData = {
      dtype: 'float32',
      dims: [B, arch.heads, 0, arch.headDim],
      data: new Float32Array(0),
    };
    let past: Record<string, TensorData> = {};
    for (let i = 0; i < arch.decoderLayers; i++)
      for (const kind of ['key', 'value'] as const) past[pastName(i, kind)] = emptyPast;
    for (let step = 0; step < maxNew && finished.includes(false); step++) {
      const fed = useCache ? sequences.map((s) => s.slice(-1)) : sequences;
      const T = (fed[0] as number[]).length;
      const out = await sessions.step({
        decoder_input_ids: int64([B, T], fed.flat()),
        encoder_attention_mask: encoderMask,
        ...cross,
        ...past,
      });
      const logits = tensorNumbers(out.logits as TensorData);
      const V = logits.length / B;
      sequences.forEach((seq, b) => {
        // transformers: next = next * unfinished + pad * (1 − unfinished).
        const next = finished[b] ? defaults.padTokenId : argmax(logits, b * V, V);
        seq.push(next);
        if (!finished[b] && eos.has(next)) finished[b] = true;
      });
      if (useCache) {
        past = {};
        for (let i = 0; i < arch.decoderLayers; i++)
          for (const kind of ['key', 'value'] as const)
            past[pastName(i, kind)] = out[presentName(i, kind)] as TensorData;
      }
    }
    return sequences.map((seq) => {
      const generated = seq.slice(1);
      const end = generated.findIndex((id) => eos.has(id));
      const kept = end < 0 ? generated : generated.slice(0, end);
      return { ids: kept, text: tokenizer.decode(kept, true), finishReason: end < 0 ? 'length' : 'stop' };
    });
  }

  return {
    folder,
    tokenizer,
    seq2seq,
    defaults,
    generate,
    async dispose() {
      await sessions.dispose();
    },
  };
}
