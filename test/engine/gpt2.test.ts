import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Example } from '../../src/engine/data/records.js';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers, type Value } from '../../src/engine/graph/types.js';
import { type LoadedCausalLm, loadCausalLm, nextToken } from '../../src/engine/inference/causal-lm-model.js';
import { readHfConfig } from '../../src/engine/io/hf-config.js';
import { decoderContext } from '../../src/engine/models/decoder.js';
import { type Gpt2Arch, gpt2Arch, gpt2Forward, gpt2Specs, lmHead } from '../../src/engine/models/gpt2/model.js';
import { HfConfigReader } from '../../src/engine/models/hf-config.js';
import { createSession, type Session } from '../../src/engine/runtime.js';
import type { Evaluator } from '../../src/engine/step/batch.js';
import { buildForward } from '../../src/engine/step/step-graph.js';
import {
  causalLmRecipe,
  collateLm,
  encodeTexts,
  evaluateLm,
  type LmExample,
  ngramBaseline,
} from '../../src/engine/tasks/causal-lm/recipe.js';
import { Tokenizer } from '../../src/engine/tokenize/index.js';
import { rng } from '../../src/engine/util/random.js';
import { applyDefaults } from '../../src/shared/config-validate.js';
import { GPT2_FIXTURE_SENTENCES, patternedSentences, writeTinyGpt2 } from '../fixtures/tiny-gpt2.js';
import { referenceLogits, referenceNll } from './helpers/gpt2-reference.js';
import { gradCheck } from './helpers/gradcheck.js';

let dir: string;
let lm: LoadedCausalLm;
/** The fixture's GPT-2 arch, for the plain-loop reference. */
let arch: Gpt2Arch;
let forward: Session;
let evaluator: Evaluator;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpt2-'));
  writeTinyGpt2(dir, GPT2_FIXTURE_SENTENCES, { seed: 3 });
  lm = await loadCausalLm(dir, { threads: 1 });
  arch = gpt2Arch(new HfConfigReader(readHfConfig(dir), `${dir}/config.json`));
  const spec = buildForward({
    model: lm.model,
    weights: lm.weights,
    trainable: new Set(),
    optimizer: { kind: 'adamw', weightDecay: 0 },
  });
  forward = await createSession(encodeModel(spec.graph), { device: 'cpu', threads: 1 });
  evaluator = {
    async evaluate(batch) {
      const out = await forward.run(batch);
      return {
        loss: tensorNumbers(out[spec.loss] as TensorData)[0] as number,
        logits: out[spec.logits as string] as TensorData,
      };
    },
  };
});

after(async () => {
  await lm?.dispose();
  await forward?.dispose();
});

const textExample = (text: string, line = 1): Example => ({ kind: 'text', text, source: { file: 'x', line } });
const ids = (text: string) => lm.tokenizer.encode(text, null).ids;

function assertClose(actual: number, expected: number, tol: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

test('gpt2: the graph matches a plain-loop GPT-2 on every real token, padded or not', async () => {
  const texts = ['the cat sees the ball every day.', 'a dog helps'];
  const examples: LmExample[] = texts.map((t) => ({ inputIds: ids(t) }));
  const { logits } = await evaluator.evaluate(collateLm(examples, lm.padId));
  const v = tensorNumbers(logits);
  const [, T, V] = logits.dims as [number, number, number];
  assert.equal(V, lm.arch.vocabSize);
  examples.forEach((e, b) => {
    const ref = referenceLogits(arch, lm.weights, e.inputIds);
    e.inputIds.forEach((_, t) => {
      for (let k = 0; k < V; k += 7)
        assertClose(v[(b * T + t) * V + k] as number, ref[t]?.[k] as number, 1e-4, `logit b${b} t${t} k${k}`);
    });
  });
});

test('gpt2: the tiny Hub-layout folder loads fully: no prefix, mask buffers ignored, tied head not expected', () => {
  const recipe = causalLmRecipe({
    config: applyDefaults({ model: dir, task: 'causal-lm', data: { train: 'x' } }),
    modelDir: dir,
    tokenizer: lm.tokenizer,
    labelSet: undefined,
    seed: 0,
  });
  assert.deepEqual(recipe.loadReport, { missing: [], unexpected: [], reinitialized: [] });
  assert.ok(!recipe.model.params.some((p) => p.name === 'lm_head.weight'));
  assert.equal(recipe.architecture, 'GPT2LMHeadModel');
  assert.equal(recipe.padId, lm.eosTokenId, 'GPT-2 has no pad token: batches pad with EOS (masked)');
});

test('causal-lm: labels are the inputs shifted by one, padding and last tokens ignored', () => {
  const batch = collateLm([{ inputIds: [5, 6, 7] }, { inputIds: [8, 9] }], 0);
  assert.deepEqual(tensorNumbers(batch.input_ids as TensorData), [5, 6, 7, 8, 9, 0]);
  assert.deepEqual(tensorNumbers(batch.attention_mask as TensorData), [1, 1, 1, 1, 1, 0]);
  assert.deepEqual(tensorNumbers(batch.labels as TensorData), [6, 7, -100, 9, -100, -100]);
});

test('causal-lm: evaluation perplexity is token-weighted over two batches of different lengths', async () => {
  const texts = [
    'the cat sees the ball every day.',
    'a dog',
    'the teacher calls a song in the morning and the bird finds the garden at night.',
  ];
  const examples: LmExample[] = texts.map((t) => ({ inputIds: ids(t) }));
  const lengths = examples.map((e) => e.inputIds.length);
  assert.ok(new Set(lengths).size === 3, `distinct lengths ${lengths}`);
  // By hand: Σ over texts of Σ_t −log p(x_t | x_<t), over Σ (T − 1), from the plain-loop model.
  const nll = examples.map((e) => referenceNll(referenceLogits(arch, lm.weights, e.inputIds), e.inputIds));
  const tokens = lengths.reduce((n, l) => n + l - 1, 0);
  const handLoss = nll.reduce((a, b) => a + b, 0) / tokens;
  // batch size 2: batches [text 0, text 1] and [text 2], of different lengths and token counts
  const scores = await evaluateLm(evaluator, examples, 2, lm.padId);
  assert.equal(scores.batches.length, 2);
  assert.deepEqual(
    scores.batches.map((b) => b.tokens),
    [(lengths[0] as number) + (lengths[1] as number) - 2, (lengths[2] as number) - 1],
  );
  assertClose(scores.loss, handLoss, 1e-5, 'loss');
  assertClose(scores.perplexity, Math.exp(handLoss), 1e-5, 'perplexity');
  // A mean of the two batch means would differ: the weighting matters on this data.
  const meanOfMeans = scores.batches.reduce((a, b) => a + b.nllSum / b.tokens, 0) / 2;
  assert.ok(Math.abs(meanOfMeans - handLoss) > 1e-3, `${meanOfMeans} vs ${handLoss}`);
  // The CLI's evaluation graph (summed NLL, sorted batches) gives the same numbers.
  const cli = await lm.evaluateTexts(texts);
  assert.equal(cli.tokens, tokens);
  assertClose(cli.loss, handLoss, 1e-5, 'evaluateTexts loss');
});

test('causal-lm: packing joins texts with EOS and cuts max_length blocks; without it short texts drop', () => {
  const tok = Tokenizer.fromFolder(dir);
  const texts = ['the cat sees the ball.', 'a dog helps.', 'x', 'the bird calls a song at night.'];
  const examples = texts.map((t, i) => textExample(t, i + 1));
  const eos = lm.eosTokenId as number;
  const stream = texts.flatMap((t, i) => [...(i > 0 ? [eos] : []), ...tok.encode(t, null).ids]);
  const packed = encodeTexts(tok, examples, { maxLength: 8, packing: true, eos });
  const blocks = Array.from({ length: Math.ceil(stream.length / 8) }, (_, i) => stream.slice(i * 8, i * 8 + 8));
  assert.deepEqual(
    packed.map((b) => b.inputIds),
    blocks.filter((b) => b.length >= 2),
  );
  // One EOS between neighbouring texts, none after the last.
  assert.equal(packed.flatMap((b) => b.inputIds).filter((id) => id === eos).length, texts.length - 1);
  const plain = encodeTexts(tok, examples, { maxLength: 5, packing: false, eos });
  assert.ok(plain.every((e) => e.inputIds.length >= 2 && e.inputIds.length <= 5));
  assert.equal(plain.length, tok.encode('x', null).ids.length >= 2 ? 4 : 3);
});

test('generation: greedy with the KV cache equals recomputing the prefix, and sampling too', async () => {
  for (const prompt of ['the cat', 'a dog helps the']) {
    const cached = await lm.generate(prompt, { maxNewTokens: 12, eosTokenId: null });
    const full = await lm.generate(prompt, { maxNewTokens: 12, eosTokenId: null, useCache: false });
    assert.equal(cached.ids.length, 12);
    assert.deepEqual(cached.ids, full.ids);
    // greedy = argmax of the plain-loop model's last logits, token by token
    const seq = ids(prompt);
    for (const id of cached.ids.slice(0, 3)) {
      const ref = referenceLogits(arch, lm.weights, seq).at(-1) as number[];
      assert.equal(id, ref.indexOf(Math.max(...ref)));
      seq.push(id);
    }
    const sampling = { maxNewTokens: 12, eosTokenId: null, doSample: true, temperature: 0.9, topK: 50, seed: 5 };
    const s1 = await lm.generate(prompt, sampling);
    const s2 = await lm.generate(prompt, { ...sampling, useCache: false });
    assert.deepEqual(s1.ids, s2.ids);
  }
});

test('generation: deterministic for a seed, different across seeds, and stops at EOS', async () => {
  const o = { maxNewTokens: 15, doSample: true, temperature: 1.5, topP: 0.95, eosTokenId: null };
  const a = await lm.generate('the bird', { ...o, seed: 11 });
  const b = await lm.generate('the bird', { ...o, seed: 11 });
  assert.deepEqual(a.ids, b.ids);
  assert.equal(a.text, b.text);
  const others = await Promise.all([12, 13, 14].map((seed) => lm.generate('the bird', { ...o, seed })));
  assert.ok(
    others.some((c) => c.ids.join() !== a.ids.join()),
    'other seeds give other texts',
  );
  // Make the 4th sampled token the EOS: generation stops there and leaves it out.
  const eos = a.ids[3] as number;
  assert.ok(!a.ids.slice(0, 3).includes(eos));
  const stopped = await lm.generate('the bird', { ...o, seed: 11, eosTokenId: eos });
  assert.deepEqual(stopped.ids, a.ids.slice(0, 3));
  assert.equal(stopped.stoppedBy, 'eos');
  assert.equal(stopped.text, lm.tokenizer.decode(a.ids.slice(0, 3), true));
  // the model's own EOS (config eos_token_id) is the default stop token
  assert.equal(lm.eosTokenId, lm.tokenizer.eosTokenId);
});

test('generation: the context bounds the length; an empty prompt starts from BOS', async () => {
  const long = patternedSentences(20, 1).join(' ');
  const g = await lm.generate(long, { maxNewTokens: 200, eosTokenId: null });
  assert.equal(g.stoppedBy, 'context');
  assert.ok(g.ids.length >= 1);
  const empty = await lm.generate('', { maxNewTokens: 3, eosTokenId: null });
  assert.equal(empty.ids.length, 3);
});

test('sampling: top-k 1 and temperature 0 are greedy; top-p keeps the smallest set reaching p', () => {
  const logits = [0.1, 2, 1.5, -1, 1.9];
  const rand = rng(1);
  for (let i = 0; i < 20; i++) {
    assert.equal(nextToken(logits, { doSample: true, topK: 1 }, rand), 1);
    assert.equal(nextToken(logits, { doSample: true, temperature: 0 }, rand), 1);
  }
  // softmax: token 1 ≈ 0.36, token 4 ≈ 0.33: top_p 0.5 keeps exactly {1, 4}
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) seen.add(nextToken(logits, { doSample: true, topP: 0.5 }, rand));
  assert.deepEqual([...seen].sort(), [1, 4]);
});

/** Sentences of Zipf-distributed words: counts of counts as natural text has them. */
function zipfSentences(count: number, seed: number): string[] {
  const rand = rng(seed);
  const weights = Array.from({ length: 300 }, (_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const word = () => {
    let u = rand() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i] as number;
      if (u < 0) return `w${i}`;
    }
    return 'w0';
  };
  return Array.from({ length: count }, () => Array.from({ length: 4 + Math.floor(rand() * 8) }, word).join(' '));
}

test('n-gram baseline: order-3 modified Kneser-Ney, with a stated fallback where it is undefined', async () => {
  const b = await ngramBaseline(zipfSentences(1000, 1), zipfSentences(50, 2));
  assert.equal(b.order, 3);
  assert.equal(b.smoothing, 'modified-kneser-ney');
  assert.ok(b.perplexity > 1 && Number.isFinite(b.perplexity));
  assert.equal(b.fallback, undefined);
  // A patterned corpus has no word with continuation count 2: modified-KN's discounts are undefined.
  const patterned = await ngramBaseline(patternedSentences(300, 1), patternedSentences(30, 2));
  assert.equal(patterned.smoothing, 'kneser-ney');
  assert.match(patterned.fallback ?? '', /modified-kneser-ney: at order 1, n2 = 0/);
  assert.ok(Number.isFinite(patterned.perplexity));
});

test('gpt2: autodiff through the whole model (tied head, Conv1D, split q/k/v, causal mask) matches central differences', async () => {
  const arch: Gpt2Arch = {
    vocabSize: 7,
    hidden: 4,
    layers: 1,
    heads: 2,
    kvHeads: 2,
    headDim: 2,
    inner: 8,
    maxPositions: 5,
    eps: 1e-5,
    act: 'gelu_new',
    embdDropout: 0,
    attnDropout: 0,
    residDropout: 0,
    initializerRange: 0.5,
    scaleAttnWeights: true,
    scaleByInverseLayerIdx: false,
    tied: true,
    eosTokenId: null,
    bosTokenId: null,
  };
  const specs = gpt2Specs(arch);
  const report = await gradCheck(
    {
      op: 'Gemm',
      name: 'gpt2 tied lm head',
      inputs: [
        { shape: [2, 5], kind: 'index', max: 7 },
        { shape: [2, 5], kind: 'index', values: [1, 1, 1, 1, 0, 1, 1, 1, 1, 1] },
        ...specs.map((s) => ({
          shape: s.shape,
          ...(s.init.kind === 'ones' ? { kind: 'positive' as const } : {}),
        })),
      ],
      build(g, xs) {
        const byName = new Map(specs.map((s, i) => [s.name, xs[i + 2] as Value]));
        const ctx = decoderContext(g, (n) => byName.get(n) as Value, 'eval', arch);
        const out = gpt2Forward(ctx, arch, { inputIds: xs[0] as Value, attentionMask: xs[1] as Value });
        return lmHead(ctx, arch, out.hidden); // [2, 5, 7]
      },
      tol: 1e-5,
    },
    17,
  );
  // every parameter entry, the tied embedding included
  assert.equal(
    report.checked,
    specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0),
  );
});
