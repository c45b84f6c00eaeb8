import { GraphBuilder } from '../../graph/builder.js';
import { Graph, pruneToOutputs } from '../../graph/graph.js';
import type { Value } from '../../graph/types.js';
import { type KeyValue, pastName, presentName } from '../../models/decoder.js';
import { frozenParams, type Weights } from '../../models/model.js';
import type { Seq2Seq } from '../../models/seq2seq.js';

/**
 * The two inference graphs an encoder-decoder generates with:
 *
 * - the encoder graph runs once per batch of sources and returns, per decoder block, the
 *   cross-attention keys/values of its output (`cross.<i>.key|value`, [B, heads, S, head_dim]);
 * - the decoder step graph takes decoder_input_ids [B, T], the source mask, those cross keys/values
 *   and the past self-attention keys/values (`past_key_values.<i>.key|value`, P = 0 at first) and
 *   returns the logits of the last position and the present keys/values (P + T).
 */

export const crossName = (i: number, kind: 'key' | 'value'): string => `cross.${i}.${kind}`;

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
