import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder } from '../graph/builder.js';
import { Graph, pruneToOutputs } from '../graph/graph.js';
import { encodeModel } from '../graph/onnx-codec.js';
import { type TensorData, tensorOf, type Value } from '../graph/types.js';
import type { KeyValue } from '../models/decoder.js';
import type { Weights } from '../models/model.js';
import type { Seq2Seq, Seq2SeqArch } from '../models/seq2seq.js';
import { createSession, type Session, type SessionOptions } from '../runtime.js';
import type { Seq2SeqSessions } from '../tasks/seq2seq/generate.js';
import { crossName } from '../tasks/seq2seq/generation-graphs.js';
import { frozenParams, pastName, presentName } from './causal-lm-model.js';

/**
 * Optimum's seq2seq ONNX layout (what `optimum-cli export onnx --task text2text-generation-with-past`
 * writes and ORTModelForSeq2SeqLM loads), written by `finetune export --format onnx` for a
 * translation or summarization model and read back by predict and serve:
 *
 * - encoder_model.onnx: input_ids, attention_mask [batch_size, encoder_sequence_length]
 *   -> last_hidden_state [batch_size, encoder_sequence_length, d_model];
 * - decoder_model.onnx: input_ids [batch_size, decoder_sequence_length], encoder_attention_mask,
 *   encoder_hidden_states -> logits [batch_size, decoder_sequence_length, vocab] and per block
 *   present.<i>.decoder.key|value (self-attention) and present.<i>.encoder.key|value (cross-attention),
 *   [batch_size, heads, length, head_dim];
 * - decoder_with_past_model.onnx: input_ids [batch_size, 1], encoder_attention_mask and
 *   past_key_values.<i>.decoder|encoder.key|value -> logits [batch_size, 1, vocab] and
 *   present.<i>.decoder.key|value (past + 1). The cross keys/values are not outputs: they do not change.
 *
 * Names are Optimum's (`add_past_key_values` of OnnxSeq2SeqConfigWithPast); dims are symbolic with
 * its names, except that the cross-attention length is `encoder_sequence_length` throughout.
 */
export const SEQ2SEQ_ONNX_FILES = {
  encoder: 'encoder_model.onnx',
  decoder: 'decoder_model.onnx',
  decoderWithPast: 'decoder_with_past_model.onnx',
} as const;

type Kind = 'key' | 'value';
type Part = 'decoder' | 'encoder';
export const optimumPastName = (i: number, part: Part, kind: Kind): string => `past_key_values.${i}.${part}.${kind}`;
export const optimumPresentName = (i: number, part: Part, kind: Kind): string => `present.${i}.${part}.${kind}`;

const BATCH = 'batch_size';
const SOURCE = 'encoder_sequence_length';
const TARGET = 'decoder_sequence_length';
const PAST = 'past_decoder_sequence_length';

const output = (g: GraphBuilder, v: Value, name: string, shape: (string | number)[]) =>
  g.output(g.withShape(g.op('Identity', [v], {}, { outputNames: [name] })[0] as Value, shape));

function kvOutputs(g: GraphBuilder, arch: Seq2SeqArch, kvs: readonly KeyValue[], part: Part, length: string) {
  kvs.forEach((kv, i) => {
    output(g, kv.key, optimumPresentName(i, part, 'key'), [BATCH, arch.heads, length, arch.headDim]);
    output(g, kv.value, optimumPresentName(i, part, 'value'), [BATCH, arch.heads, length, arch.headDim]);
  });
}

export function encoderModelGraph(seq2seq: Seq2Seq, weights: Weights): Graph {
  const g = new GraphBuilder(new Graph('encoder_model'));
  const ids = g.input('input_ids', 'int64', [BATCH, SOURCE]);
  const mask = g.input('attention_mask', 'int64', [BATCH, SOURCE]);
  const ctx = seq2seq.context(g, frozenParams(g, weights), 'eval');
  const hidden = g.scope('encoder', () => seq2seq.encode(ctx, { inputIds: ids, attentionMask: mask }));
  output(g, hidden, 'last_hidden_state', [BATCH, SOURCE, seq2seq.arch.hidden]);
  return pruneToOutputs(g.graph);
}

/** decoder_model.onnx, or with `withPast` decoder_with_past_model.onnx: one graph of the family's cached decoder. */
export function decoderModelGraph(seq2seq: Seq2Seq, weights: Weights, withPast: boolean): Graph {
  const { arch } = seq2seq;
  const g = new GraphBuilder(new Graph(withPast ? 'decoder_with_past_model' : 'decoder_model'));
  const ids = g.input('input_ids', 'int64', [BATCH, withPast ? 1 : TARGET]);
  const encoderMask = g.input('encoder_attention_mask', 'int64', [BATCH, SOURCE]);
  const kvInputs = (part: Part, length: string): KeyValue[] =>
    Array.from({ length: arch.decoderLayers }, (_, i) => ({
      key: g.input(optimumPastName(i, part, 'key'), 'float32', [BATCH, arch.heads, length, arch.headDim]),
      value: g.input(optimumPastName(i, part, 'value'), 'float32', [BATCH, arch.heads, length, arch.headDim]),
    }));
  const ctx = seq2seq.context(g, frozenParams(g, weights), 'eval');
  let past: KeyValue[];
  let cross: KeyValue[];
  if (withPast) {
    past = kvInputs('decoder', PAST);
    cross = kvInputs('encoder', SOURCE);
  } else {
    const hidden = g.input('encoder_hidden_states', 'float32', [BATCH, SOURCE, arch.hidden]);
    cross = g.scope('decoder', () => seq2seq.crossKeyValues(ctx, hidden));
    // No earlier positions: an empty past [B, heads, 0, head_dim] cut from the cross keys keeps the batch dim.
    past = cross.map((kv) => {
      const empty = g.slice(kv.key, [0], [0], [2]);
      return { key: empty, value: empty };
    });
  }
  const out = g.scope('decoder', () => seq2seq.decodeCached(ctx, { inputIds: ids, encoderMask, past, cross }));
  const length = withPast ? 1 : TARGET;
  const logits = g.scope('lm_head', () => seq2seq.lmHead(ctx, g.withShape(out.hidden, [BATCH, length, arch.hidden])));
  output(g, logits, 'logits', [BATCH, length, arch.vocabSize]);
  kvOutputs(g, arch, out.present, 'decoder', withPast ? `${PAST} + 1` : TARGET);
  if (!withPast) kvOutputs(g, arch, cross, 'encoder', SOURCE);
  return pruneToOutputs(g.graph);
}

/** Writes the three files into `out`. */
export function writeSeq2SeqOnnxLayout(out: string, seq2seq: Seq2Seq, weights: Weights): void {
  const write = (file: string, graph: Graph) =>
    writeFileSync(join(out, file), encodeModel(graph, { producer: 'finetune-workbench' }));
  write(SEQ2SEQ_ONNX_FILES.encoder, encoderModelGraph(seq2seq, weights));
  write(SEQ2SEQ_ONNX_FILES.decoder, decoderModelGraph(seq2seq, weights, false));
  write(SEQ2SEQ_ONNX_FILES.decoderWithPast, decoderModelGraph(seq2seq, weights, true));
}

export const hasSeq2SeqOnnxLayout = (folder: string): boolean =>
  Object.values(SEQ2SEQ_ONNX_FILES).every((f) => existsSync(join(folder, f)));

const need = (out: Record<string, TensorData>, name: string, file: string): TensorData => {
  const t = out[name];
  if (!t) throw new Error(`${file}: the model has no output '${name}' (not Optimum's seq2seq layout)`);
  return t;
};

/** The logits of the last position of [B, T, V]. */
function lastPosition(logits: TensorData): TensorData {
  const [B, T, V] = logits.dims as [number, number, number];
  if (T === 1) return logits;
  const data = new Float32Array(B * V);
  for (let b = 0; b < B; b++)
    data.set((logits.data as Float32Array).subarray((b * T + T - 1) * V, (b * T + T) * V), b * V);
  return { dtype: 'float32', dims: [B, 1, V], data };
}

/**
 * Sessions over an exported folder. `encode` runs encoder_model.onnx, then decoder_model.onnx once
 * on the decoder start token for the cross-attention keys/values it outputs (one extra one-token
 * decoder run per batch: that file is the only one that computes them). A step without a past (the
 * first, or every step with the cache off) runs decoder_model.onnx on the whole prefix; a step with
 * one runs decoder_with_past_model.onnx.
 */
export async function openSeq2SeqOnnxLayout(
  folder: string,
  arch: Seq2SeqArch,
  options: SessionOptions,
): Promise<Seq2SeqSessions & { dispose(): Promise<void> }> {
  const file = (f: string) => join(folder, f);
  const open = (f: string) => createSession(readFileSync(file(f)), options);
  const sessions: Session[] = [];
  try {
    for (const f of Object.values(SEQ2SEQ_ONNX_FILES)) sessions.push(await open(f));
  } catch (err) {
    await Promise.allSettled(sessions.map((s) => s.dispose()));
    throw err;
  }
  const [encoder, decoder, withPast] = sessions as [Session, Session, Session];
  const layers = Array.from({ length: arch.decoderLayers }, (_, i) => i);
  const kinds = ['key', 'value'] as const;
  const renamePresent = (out: Record<string, TensorData>, f: string) => {
    const present: Record<string, TensorData> = {};
    for (const i of layers)
      for (const k of kinds) present[presentName(i, k)] = need(out, optimumPresentName(i, 'decoder', k), f);
    return present;
  };
  // The runs generation makes (tasks/seq2seq/generate.ts), with the engine's names: the encoder
  // gives the cross-attention feeds of every step, a step gives the last position's logits.
  return {
    encoder: { run: encode },
    decoder: { run: step },
    async dispose() {
      await Promise.allSettled(sessions.map((s) => s.dispose()));
    },
  };

  async function encode(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
    const hidden = need(await encoder.run(feeds), 'last_hidden_state', SEQ2SEQ_ONNX_FILES.encoder);
    const B = (feeds.input_ids as TensorData).dims[0] as number;
    const start = tensorOf('int64', [B, 1], new Array<number>(B).fill(arch.decoderStartTokenId));
    const out = await decoder.run({
      input_ids: start,
      encoder_attention_mask: feeds.attention_mask as TensorData,
      encoder_hidden_states: hidden,
    });
    const encoded: Record<string, TensorData> = { encoder_hidden_states: hidden };
    for (const i of layers)
      for (const k of kinds)
        encoded[crossName(i, k)] = need(out, optimumPresentName(i, 'encoder', k), SEQ2SEQ_ONNX_FILES.decoder);
    return encoded;
  }

  async function step(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
    const get = (name: string) => need(feeds, name, 'generation feeds');
    const pastLength = layers.length > 0 ? (get(pastName(0, 'key')).dims[2] as number) : 0;
    if (pastLength === 0) {
      const f = SEQ2SEQ_ONNX_FILES.decoder;
      const out = await decoder.run({
        input_ids: get('decoder_input_ids'),
        encoder_attention_mask: get('encoder_attention_mask'),
        encoder_hidden_states: get('encoder_hidden_states'),
      });
      return { logits: lastPosition(need(out, 'logits', f)), ...renamePresent(out, f) };
    }
    const inputs: Record<string, TensorData> = {
      input_ids: get('decoder_input_ids'),
      encoder_attention_mask: get('encoder_attention_mask'),
    };
    for (const i of layers)
      for (const k of kinds) {
        inputs[optimumPastName(i, 'decoder', k)] = get(pastName(i, k));
        inputs[optimumPastName(i, 'encoder', k)] = get(crossName(i, k));
      }
    const f = SEQ2SEQ_ONNX_FILES.decoderWithPast;
    const out = await withPast.run(inputs);
    return { logits: need(out, 'logits', f), ...renamePresent(out, f) };
  }
}
