import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildParzen, defaultWeights, parzenLogPdf, parzenSample } from '../../../src/engine/sweep/parzen.js';
import { distributionOf } from '../../../src/engine/sweep/space.js';
import { erf, erfc, logGaussMass, truncnormPpf } from '../../../src/engine/sweep/truncnorm.js';
import { rng } from '../helpers/random.js';

/**
 * The Parzen estimators of TPE against numbers from Optuna's own code: the expected log densities
 * were printed by optuna/samplers/_tpe/parzen_estimator.py (optuna commit 1d8ce7b, numpy 1.24) for
 * these observations, with TPESampler's defaults (prior_weight 1, consider_magic_clip,
 * consider_endpoints False, default_weights). The kernel widths are also worked by hand below.
 */
const close = (actual: number, expected: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs ${expected}`,
  );

const P = { priorWeight: 1 };

test('erf and erfc agree with the C library to the last bits (values from Python math.erf/erfc)', () => {
  const cases: [number, number, number][] = [
    [-1, -0.8427007929497149, 1.842700792949715],
    [0.1, 0.1124629160182849, 0.8875370839817152],
    [0.9, 0.7969082124228322, 0.20309178757716786],
    [2, 0.9953222650189527, 0.004677734981047265],
    [5.5, 0.9999999999999927, 7.357847917974398e-15],
  ];
  for (const [x, e, c] of cases) {
    close(erf(x), e, `erf(${x})`);
    assert.ok(Math.abs(erfc(x) - c) <= 1e-14 * c, `erfc(${x})`);
  }
  // log(Φ(4) − Φ(3)) by Python: math.log(0.5*math.erfc(-4/2**.5) - 0.5*math.erfc(-3/2**.5)).
  close(logGaussMass(3, 4), -6.631467786538218, 'mass on [3, 4]');
  // The quantile inverts the mass: Φ(x) − Φ(a) = q (Φ(b) − Φ(a)).
  const x = truncnormPpf(0.3, -1, 2);
  close(Math.exp(logGaussMass(-1, x) - logGaussMass(-1, 2)), 0.3, 'ppf');
});

test('uniform: kernel widths by hand, densities as Optuna computes them', () => {
  const d = distributionOf({ key: 'x', type: 'uniform', low: 0, high: 10 });
  const p = buildParzen([2, 5, 9], d, P);
  assert.equal(p.kind, 'numeric');
  if (p.kind !== 'numeric') return;
  // Sorted with the ends: 0 | 2 5 9 | 10. Each width is the larger gap to a neighbour, 3 and 4 for
  // 2 and 5; the outermost look inward only (consider_endpoints False): 2 → 5−2 = 3, 9 → 9−5 = 4.
  // Clipped to [10 / min(100, 1 + 4 kernels), 10] = [2, 10]. The prior: mean 5, width 10.
  assert.deepEqual(p.mus, [2, 5, 9, 5]);
  assert.deepEqual(p.sigmas, [3, 4, 4, 10]);
  assert.deepEqual(p.weights, [0.25, 0.25, 0.25, 0.25]);
  close(parzenLogPdf(p, 4), -2.190886783128996, 'log p(4)');
  close(parzenLogPdf(p, 0.5), -2.474265994781709, 'log p(0.5)');
  close(parzenLogPdf(p, 9.9), -2.514855016035221, 'log p(9.9)');
  const empty = buildParzen([], d, P);
  close(parzenLogPdf(empty, 4), -2.2666072925030964, 'the prior alone');
  // One observation: width max(7 − 0, 10 − 7) = 7, and a weight of 1/2 each with the prior.
  const one = buildParzen([7], d, P);
  if (one.kind === 'numeric') assert.deepEqual(one.sigmas, [7, 10]);
  close(parzenLogPdf(one, 7), -2.232688929521852, 'one observation, at it');
  close(parzenLogPdf(one, 1), -2.441906772714957, 'one observation, away');
});

test('loguniform: kernels on the logarithm', () => {
  const p = buildParzen([1e-3, 3e-3, 2e-2], distributionOf({ key: 'x', type: 'loguniform', low: 1e-4, high: 1e-1 }), P);
  if (p.kind !== 'numeric') throw new Error('numeric expected');
  // ln 1e-3 − ln 1e-4 = ln 10 = 2.302…; the widths: min width ln(1000)/5 = 1.3816 clips the first.
  close(p.sigmas[0] as number, 1.3815510557964275, 'first width');
  close(p.sigmas[1] as number, 1.8971199848858817, 'middle width');
  close(parzenLogPdf(p, 2e-3), -1.654587335686225, 'log p(2e-3)');
  close(parzenLogPdf(p, 5e-2), -2.175771211789263, 'log p(5e-2)');
});

test('int: probability masses of the step around each value, range widened by half a step', () => {
  const p = buildParzen([2, 4, 4], distributionOf({ key: 'x', type: 'int', low: 1, high: 8 }), P);
  if (p.kind !== 'numeric') throw new Error('numeric expected');
  // Ends 0.5 | 2 4 4 | 8.5: widths 2, 2 and, looking inward, 4 − 4 = 0, clipped up to 8 / 5 = 1.6.
  assert.deepEqual(p.sigmas, [2, 2, 1.6, 8]);
  close(parzenLogPdf(p, 4), -1.681641057552834, 'P(4)');
  close(parzenLogPdf(p, 1), -2.164986969042815, 'P(1)');
  close(parzenLogPdf(p, 8), -3.2011660658739607, 'P(8)');
  const stepped = buildParzen([4, 16], distributionOf({ key: 'x', type: 'int', low: 4, high: 32, step: 4 }), P);
  close(parzenLogPdf(stepped, 8), -1.8356096664034265, 'P(8), step 4');
  close(parzenLogPdf(stepped, 32), -2.698995932308359, 'P(32), step 4');
  for (const v of parzenSample(stepped, rng(3), 50)) assert.ok(v >= 4 && v <= 32 && v % 4 === 0, `${v} on the grid`);
});

test('choice: one smoothed one-hot row per observation, plus a flat prior', () => {
  const p = buildParzen([0, 0, 2], distributionOf({ key: 'x', type: 'choice', values: [8, 16, 32] }), P);
  if (p.kind !== 'categorical') throw new Error('categorical expected');
  // Each row starts at prior_weight / kernels = 1/4 per choice, +1 at its observation: (1.25, .25, .25) / 1.75.
  close(p.probs[0]?.[0] as number, 1.25 / 1.75, 'row 0');
  // log P(8) = log((5/7 + 5/7 + 1/7 + 1/3) / 4), by hand = −0.741937…
  close(parzenLogPdf(p, 0), Math.log((5 / 7 + 5 / 7 + 1 / 7 + 1 / 3) / 4), 'by hand');
  close(parzenLogPdf(p, 0), -0.7419373447293773, 'P(8)');
  close(parzenLogPdf(p, 1), -1.6582280766035324, 'P(16)');
  close(parzenLogPdf(p, 2), -1.0986122886681098, 'P(32)');
});

test("default_weights: flat below 25 observations, then older ones ramp up from 1/n (Optuna's numbers for n = 30)", () => {
  assert.deepEqual(defaultWeights(3), [1, 1, 1]);
  const w = defaultWeights(30);
  assert.equal(w.length, 30);
  for (const [i, e] of [0.03333333333333333, 0.275, 0.5166666666666667, 0.7583333333333333, 1, 1].entries())
    close(w[i] as number, e, `weight ${i}`);
});
