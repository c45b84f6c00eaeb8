import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers, tensorOf, type Value } from '../../src/engine/graph/types.js';
import { HfConfigReader } from '../../src/engine/models/hf-config.js';
import { blockContext } from '../../src/engine/models/layers.js';
import { encoderFamilyOf } from '../../src/engine/models/registry.js';
import { type XlnetArch, xlnetArch } from '../../src/engine/models/xlnet/arch.js';
import { attentionInputs, attentionTerms, projectHeads } from '../../src/engine/models/xlnet/attention.js';
import { sequenceSummaryHead } from '../../src/engine/models/xlnet/index.js';
import { createSession } from '../../src/engine/runtime.js';
import { buildForward } from '../../src/engine/step/step-graph.js';
import { collateEncoded } from '../../src/engine/tasks/encoder/encoded.js';
import { sequenceClassificationModel } from '../../src/engine/tasks/encoder/task-models.js';
import { Tokenizer } from '../../src/engine/tokenize/tokenizer.js';
import { tinyConfig } from '../fixtures/tiny-configs.js';
import { writeXlnetTokenizer } from '../fixtures/tokenizers.js';
import { randomWeights, referenceXlnet, type XlnetBatch } from './helpers/xlnet-reference.js';

/**
 * A left-padded pair (<pad> has token type 3, <sep> closes each segment, <cls> with type 2 comes
 * last, as XLNetTokenizer builds it) and an unpadded single text.
 */
const BATCH: XlnetBatch = {
  ids: [
    [5, 5, 12, 13, 4, 14, 4, 3],
    [20, 21, 22, 23, 24, 25, 4, 3],
  ],
  types: [
    [3, 3, 0, 0, 0, 1, 1, 2],
    [0, 0, 0, 0, 0, 0, 0, 2],
  ],
  mask: [
    [0, 0, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1, 1],
  ],
};

const feeds = (b: XlnetBatch) => {
  const dims = [b.ids.length, (b.ids[0] as number[]).length];
  return {
    input_ids: tensorOf('int64', dims, b.ids.flat()),
    attention_mask: tensorOf('int64', dims, b.mask.flat()),
    token_type_ids: tensorOf('int64', dims, b.types.flat()),
  };
};

function configOf(extra: Record<string, unknown> = {}): HfConfigReader {
  return new HfConfigReader(tinyConfig('xlnet', 40, { dropout: 0, ...extra }), 'xlnet/config.json');
}

/** The graph's layer-0 terms: ac, bd (after rel_shift) and ef, each [B, N, T, T]. */
async function graphTerms(a: XlnetArch, weights: Map<string, TensorData>): Promise<Record<string, number[]>> {
  const g = new GraphBuilder();
  const params = new Map<string, ReturnType<GraphBuilder['initializer']>>();
  const param = (name: string) => {
    const existing = params.get(name);
    if (existing) return existing;
    const v = g.initializer(name, weights.get(name) as TensorData);
    params.set(name, v);
    return v;
  };
  const ctx = blockContext(g, param, 'eval', { hidden: 0, attention: 0 });
  const inputs = {
    input_ids: g.input('input_ids', 'int64', ['batch', 'seq']),
    attention_mask: g.input('attention_mask', 'int64', ['batch', 'seq']),
    token_type_ids: g.input('token_type_ids', 'int64', ['batch', 'seq']),
  };
  const h = g.gather(param('transformer.word_embedding.weight'), inputs.input_ids);
  const at = attentionInputs(ctx, a, inputs);
  const p = (n: string) => `transformer.layer.0.rel_attn.${n}`;
  const split = (x: ReturnType<typeof g.input>) => g.transpose(x, [0, 2, 1, 3]);
  const q = split(projectHeads(ctx, a, h, p('q')));
  const k = split(projectHeads(ctx, a, h, p('k')));
  const terms = attentionTerms(ctx, a, q, k, at, p);
  const names = Object.fromEntries(Object.entries(terms).map(([key, v]) => [key, g.output(v as Value).name]));
  const session = await createSession(encodeModel(g.graph), { device: 'cpu', threads: 1 });
  try {
    const out = await session.run(feeds(BATCH));
    return Object.fromEntries(Object.entries(names).map(([key, n]) => [key, tensorNumbers(out[n] as TensorData)]));
  } finally {
    await session.dispose();
  }
}

function assertClose(actual: readonly number[], expected: readonly number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  actual.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(v - (expected[i] as number)));
  });
  assert.ok(worst < tol, `${what}: max |graph - float64 reference| = ${worst}`);
}

for (const clamp of [-1, 3]) {
  test(`xlnet (clamp_len ${clamp}): ac, bd after rel_shift and ef match a float64 re-computation`, async () => {
    const a = xlnetArch(configOf({ clamp_len: clamp }));
    const weights = randomWeights([...a.params(), ...sequenceSummaryHead.params(a, 3)], 11);
    const graph = await graphTerms(a, weights);
    const ref = referenceXlnet(a, weights, BATCH);
    for (const term of ['ac', 'bd', 'ef'] as const) {
      const expected = ref.terms[term].flat(3);
      assertClose(graph[term] as number[], expected, 1e-4, term);
      assert.ok(Math.max(...expected.map(Math.abs)) > 0.1, `${term} is not trivially small`);
    }
  });
}

test('xlnet sequence classification: logits of a left-padded batch match the float64 reference to 1e-4', async () => {
  const config = configOf();
  const model = sequenceClassificationModel({
    family: encoderFamilyOf(config),
    config,
    numLabels: 3,
    problemType: 'single_label_classification',
  });
  const weights = randomWeights(model.params, 5);
  const spec = buildForward({ model, weights, trainable: new Set(), optimizer: { kind: 'adamw', weightDecay: 0 } });
  const session = await createSession(encodeModel(spec.graph), { device: 'cpu', threads: 1 });
  const out = await session.run({ ...feeds(BATCH), labels: tensorOf('int64', [2], [0, 2]) });
  await session.dispose();
  const logits = tensorNumbers(out[spec.logits as string] as TensorData);
  const ref = referenceXlnet(model.arch as XlnetArch, weights, BATCH);
  assertClose(logits, ref.logits.flat(), 1e-4, 'logits');
});

test('xlnet config: unsupported settings are refused with the key named', () => {
  assert.throws(() => xlnetArch(configOf({ attn_type: 'uni' })), /attn_type 'uni' is not supported/);
  assert.throws(() => xlnetArch(configOf({ bi_data: true })), /bi_data true is not supported/);
  assert.throws(() => xlnetArch(configOf({ summary_type: 'first' })), /summary_type 'first' is not supported/);
  assert.throws(() => xlnetArch(configOf({ d_head: 4 })), /d_head 4 must be d_model \/ n_head = 8/);
});

test('xlnet tokenizer: <sep> <cls> at the end, <cls> type 2, left padding with pad type 3 in the collator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xlnet-tok-'));
  writeXlnetTokenizer(dir);
  const tok = Tokenizer.fromFolder(dir);
  assert.equal(tok.paddingSide, 'left'); // XLNetTokenizer's class attribute, in no saved file
  assert.equal(tok.padTypeId, 3);
  const pair = tok.encode('the river', 'the city sleeps');
  assert.deepEqual(pair.tokens.slice(-1), ['<cls>']);
  assert.equal(pair.tokens[pair.tokens.length - 2], '<sep>');
  assert.deepEqual(pair.tokenTypeIds.slice(-2), [1, 2]);
  assert.equal(pair.tokenTypeIds[0], 0);
  const single = tok.encode('the river');
  const o = { padId: tok.padTokenId ?? -1, withTokenTypes: true, labels: 'per-token' as const, ignoreIndex: -100 };
  const examples = [
    { inputIds: pair.ids, tokenTypeIds: pair.tokenTypeIds, label: pair.ids.map((_, t) => t) },
    { inputIds: single.ids, tokenTypeIds: single.tokenTypeIds, label: single.ids.map((_, t) => t) },
  ];
  const batch = collateEncoded(examples, { ...o, paddingSide: tok.paddingSide, padTypeId: tok.padTypeId });
  const T = pair.ids.length;
  const n = T - single.ids.length;
  const second = (name: string) => tensorNumbers(batch[name] as TensorData).slice(T);
  assert.deepEqual(second('input_ids'), [...new Array(n).fill(5), ...single.ids]);
  assert.deepEqual(second('attention_mask'), [...new Array(n).fill(0), ...single.ids.map(() => 1)]);
  assert.deepEqual(second('token_type_ids'), [...new Array(n).fill(3), ...single.tokenTypeIds]);
  assert.deepEqual(second('labels'), [...new Array(n).fill(-100), ...single.ids.map((_, t) => t)]);
  // The last position is <cls> in every row, where the summary reads.
  assert.equal(second('input_ids').at(-1), tok.clsTokenId);
});
