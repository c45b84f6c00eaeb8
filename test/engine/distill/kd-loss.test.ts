import assert from 'node:assert/strict';
import { test } from 'node:test';
import { distillationLoss, hiddenMse } from '../../../src/engine/distill/kd-loss.js';
import { GraphBuilder } from '../../../src/engine/graph/builder.js';
import { Graph } from '../../../src/engine/graph/graph.js';
import { encodeModel } from '../../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers, tensorOf, type Value } from '../../../src/engine/graph/types.js';
import { createSession } from '../../../src/engine/runtime.js';
import { IGNORE_INDEX } from '../../../src/engine/tasks/encoder/task-models.js';
import { gradCheck } from '../helpers/gradcheck.js';
import { testSeed } from '../helpers/random.js';
import { near } from '../tasks/near.js';

const LN2 = Math.log(2);
const LN3 = Math.log(3);

/** The loss, its KL term and its CE term for given logits, labels and mask, run by ONNX Runtime. */
async function kdTerms(
  student: number[][],
  teacher: number[][],
  labels: number[],
  o: { temperature: number; alpha: number; mask?: number[] },
): Promise<{ loss: number; kd: number; ce: number }> {
  const N = student.length;
  const C = student[0]?.length ?? 0;
  const g = new GraphBuilder(new Graph('kd'));
  const terms = distillationLoss(g, {
    student: g.input('student', 'float32', [N, C]),
    teacher: g.input('teacher', 'float32', [N, C]),
    kdMask: g.input('mask', 'float32', [N]),
    labels: g.input('labels', 'int64', [N]),
    temperature: o.temperature,
    alpha: o.alpha,
  });
  const names = { loss: terms.loss, kd: terms.kd, ce: terms.ce };
  for (const v of Object.values(names)) g.output(v as Value);
  const session = await createSession(encodeModel(g.graph), { device: 'cpu', threads: 1 });
  const out = await session.run({
    student: tensorOf('float32', [N, C], student.flat()),
    teacher: tensorOf('float32', [N, C], teacher.flat()),
    mask: tensorOf('float32', [N], o.mask ?? new Array(N).fill(1)),
    labels: tensorOf('int64', [N], labels),
  });
  await session.dispose();
  const num = (v: Value) => tensorNumbers(out[v.name] as TensorData)[0] as number;
  return { loss: num(terms.loss), kd: num(terms.kd), ce: num(terms.ce) };
}

test('KD loss against hand-computed values: T = 2, α = 0.5, a labelled and an unlabeled row', async () => {
  // Row 1 (label 0): teacher z_t = [2 ln 3, 0], so z_t/T = [ln 3, 0] and p_t = [3/4, 1/4];
  //   student z_s = [0, 0], p_s = [1/2, 1/2].
  //   KL = 3/4 ln(3/4 / 1/2) + 1/4 ln(1/4 / 1/2) = 3/4 ln(3/2) − 1/4 ln 2 = 0.130812
  //   CE(z_s, 0) = −ln(1/2) = ln 2 = 0.693147
  // Row 2 (no label): teacher [0, 0], p_t = [1/2, 1/2]; student [0, 2 ln 3], z_s/T = [0, ln 3],
  //   p_s = [1/4, 3/4]. KL = 1/2 ln 2 + 1/2 ln(2/3) = ln 2 − 1/2 ln 3 = 0.143841
  // KD = T² · mean over both rows = 4 · (0.130812 + 0.143841) / 2 = 0.549306 (= ln 3 / 2:
  //   3/4 ln 3 − 3/4 ln 2 − 1/4 ln 2 + ln 2 − 1/2 ln 3 = 1/4 ln 3, times 2)
  // CE = mean over the labelled row only = ln 2 (the unlabeled row adds the KL term alone)
  // loss = 0.5 · KD + 0.5 · CE = 0.5 · 0.549306 + 0.5 · 0.693147 = 0.621227
  const got = await kdTerms(
    [
      [0, 0],
      [0, 2 * LN3],
    ],
    [
      [2 * LN3, 0],
      [0, 0],
    ],
    [0, IGNORE_INDEX],
    { temperature: 2, alpha: 0.5 },
  );
  near(got.kd, LN3 / 2, 'KD term', 1e-5);
  near(got.ce, LN2, 'CE term', 1e-5);
  near(got.loss, 0.5 * (LN3 / 2) + 0.5 * LN2, 'loss', 1e-5);
  near(got.loss, 0.621227, 'loss (decimal)', 1e-5);
});

test('KD loss: α weighs the terms, T² scales the KL, a batch without labels has CE 0, masked rows are left out', async () => {
  // One row, T = 1, α = 0.25: teacher p_t = [3/4, 1/4] (z_t = [ln 3, 0]), student [0, 0]:
  //   KL = 3/4 ln(3/2) − 1/4 ln 2 = 0.130812 (T² = 1); CE(label 1) = ln 2;
  //   loss = 0.25 · 0.130812 + 0.75 · 0.693147 = 0.552563
  const kl = 0.75 * Math.log(1.5) - 0.25 * LN2;
  const one = await kdTerms([[0, 0]], [[LN3, 0]], [1], { temperature: 1, alpha: 0.25 });
  assert.ok(Math.abs(one.loss - (0.25 * kl + 0.75 * LN2)) < 1e-6, `α: ${one.loss}`);
  assert.ok(Math.abs(one.loss - 0.552563) < 1e-5);
  // T = 4 with z_t = [4 ln 3, 0] gives the same p_t, so KD = 16 · 0.130812 = 2.092992.
  const hot = await kdTerms([[0, 0]], [[4 * LN3, 0]], [IGNORE_INDEX], { temperature: 4, alpha: 0.5 });
  assert.ok(Math.abs(hot.kd - 16 * kl) < 1e-5, `T²: ${hot.kd}`);
  // No labelled row: CE is 0 (not 0/0), loss = α · KD.
  assert.equal(Math.abs(hot.ce), 0); // ORT gives -0 for the empty sum
  assert.ok(Math.abs(hot.loss - 0.5 * 16 * kl) < 1e-5);
  // A masked row (padding of token classification) adds nothing to the KD mean: the mean is over
  // the one unmasked row, whatever the masked row holds.
  const masked = await kdTerms(
    [
      [0, 0],
      [5, -5],
    ],
    [
      [LN3, 0],
      [-5, 5],
    ],
    [IGNORE_INDEX, IGNORE_INDEX],
    { temperature: 1, alpha: 1, mask: [1, 0] },
  );
  assert.ok(Math.abs(masked.kd - kl) < 1e-6, `masked: ${masked.kd}`);
});

test('KD loss: numerical gradient check of the whole term with respect to the student logits', async () => {
  for (const [temperature, alpha] of [
    [2, 0.5],
    [1, 1],
    [3.5, 0.1],
  ] as const) {
    const report = await gradCheck(
      {
        op: 'LogSoftmax',
        name: `KD T=${temperature} α=${alpha} [4,5]`,
        inputs: [
          { shape: [4, 5] },
          { shape: [4, 5], grad: false },
          { shape: [4], grad: false, values: [1, 1, 0, 1] },
          { shape: [4], kind: 'index', values: [2, IGNORE_INDEX, 0, 4] },
        ],
        build: (g, xs) =>
          distillationLoss(g, {
            student: xs[0] as Value,
            teacher: xs[1] as Value,
            kdMask: xs[2] as Value,
            labels: xs[3] as Value,
            temperature,
            alpha,
          }).loss,
      },
      testSeed(),
    );
    assert.ok(report.checked > 0);
  }
});

test('hidden_loss mse: the mean over hidden units, averaged over the unmasked rows; its gradient checks', async () => {
  // Row 1: h_s − h_t = [1, 2] − [0, 0] = [1, 2]: mean of squares (1 + 4) / 2 = 2.5.
  // Row 2 is masked out, whatever it holds.
  // Row 3: [2, 1] − [0, 3] = [2, −2]: (4 + 4) / 2 = 4.
  // Mean over the two kept rows: (2.5 + 4) / 2 = 3.25.
  const g = new GraphBuilder(new Graph('mse'));
  const s = g.input('s', 'float32', [3, 2]);
  const t = g.input('t', 'float32', [3, 2]);
  const m = g.input('m', 'float32', [3]);
  const out = g.output(hiddenMse(g, s, t, m));
  const session = await createSession(encodeModel(g.graph), { device: 'cpu', threads: 1 });
  const got = await session.run({
    s: tensorOf('float32', [3, 2], [1, 2, 9, 9, 2, 1]),
    t: tensorOf('float32', [3, 2], [0, 0, 0, 0, 0, 3]),
    m: tensorOf('float32', [3], [1, 0, 1]),
  });
  await session.dispose();
  assert.equal(tensorNumbers(got[out.name] as TensorData)[0], 3.25);
  const report = await gradCheck(
    {
      op: 'ReduceMean',
      name: 'hiddenMse [3,4]',
      inputs: [{ shape: [3, 4] }, { shape: [3, 4], grad: false }, { shape: [3], grad: false, values: [1, 0, 1] }],
      build: (b, xs) => hiddenMse(b, xs[0] as Value, xs[1] as Value, xs[2] as Value),
    },
    testSeed(),
  );
  assert.ok(report.checked > 0);
});
