import { type Distribution, snapToStep } from './space.js';
import { logGaussMass, truncnormLogPdf, truncnormPpf } from './truncnorm.js';

/**
 * The univariate Parzen estimator of Optuna's TPE (optuna/samplers/_tpe/parzen_estimator.py and
 * probability_distributions.py) with its defaults: consider_prior, consider_magic_clip on,
 * consider_endpoints off. A mixture of one kernel per observation plus a prior kernel: truncated
 * normals for numbers (on the logarithm for log distributions, widened by half a step each side
 * for integers), a smoothed one-hot for choices.
 */
export interface ParzenSettings {
  priorWeight: number;
}

export type Parzen =
  | { kind: 'categorical'; weights: number[]; probs: number[][] }
  | {
      kind: 'numeric';
      weights: number[];
      mus: number[];
      sigmas: number[];
      low: number;
      high: number;
      d: Exclude<Distribution, { kind: 'categorical' }>;
    };

/** Optuna's default_weights: equal below 25 observations, older ones ramped down beyond. */
export function defaultWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const rampLength = n - 25;
  const ramp = Array.from({ length: rampLength }, (_, i) =>
    rampLength === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (rampLength - 1),
  );
  return [...ramp, ...new Array<number>(25).fill(1)];
}

/** The kernel widths of numeric observations (compute_sigmas in parzen_estimator.py). */
export function parzenSigmas(mus: readonly number[], low: number, high: number): number[] {
  const order = mus.map((_, i) => i).sort((a, b) => (mus[a] as number) - (mus[b] as number));
  const ends = [low, ...order.map((i) => mus[i] as number), high];
  const sorted = order.map((_, k) =>
    Math.max((ends[k + 1] as number) - (ends[k] as number), (ends[k + 2] as number) - (ends[k + 1] as number)),
  );
  if (ends.length >= 4) {
    // consider_endpoints=False: the outermost kernels look only inward.
    sorted[0] = (ends[2] as number) - (ends[1] as number);
    sorted[sorted.length - 1] = (ends[ends.length - 2] as number) - (ends[ends.length - 3] as number);
  }
  const maxSigma = high - low;
  // consider_magic_clip: no kernel narrower than the range over min(100, kernels + 1), the prior included.
  const minSigma = (high - low) / Math.min(100, 1 + (mus.length + 1));
  const sigmas = new Array<number>(mus.length);
  order.forEach((i, k) => {
    sigmas[i] = Math.min(maxSigma, Math.max(minSigma, sorted[k] as number));
  });
  return sigmas;
}

/** Observations are internal values (choice indices, or the numbers themselves). */
export function buildParzen(observations: readonly number[], d: Distribution, s: ParzenSettings): Parzen {
  const n = observations.length;
  const raw = n === 0 ? [1] : [...defaultWeights(n), s.priorWeight];
  const total = raw.reduce((a, b) => a + b, 0);
  const weights = raw.map((w) => w / total);
  if (d.kind === 'categorical') {
    const k = d.choices.length;
    if (n === 0) return { kind: 'categorical', weights, probs: [new Array<number>(k).fill(1 / k)] };
    const kernels = n + 1;
    const probs = Array.from({ length: kernels }, (_, row) => {
      const p = new Array<number>(k).fill(s.priorWeight / kernels);
      if (row < n) p[observations[row] as number] = (p[observations[row] as number] as number) + 1;
      const sum = p.reduce((a, b) => a + b, 0);
      return p.map((v) => v / (sum === 0 ? 1 : sum));
    });
    return { kind: 'categorical', weights, probs };
  }
  const { low, high } = adaptedBounds(d);
  const mus = observations.map((x) => (d.kind === 'float' && d.log ? Math.log(x) : x));
  const sigmas = parzenSigmas(mus, low, high);
  return { kind: 'numeric', weights, mus: [...mus, 0.5 * (low + high)], sigmas: [...sigmas, high - low], low, high, d };
}

/** The range the kernels live on: logarithms for log floats, half a step wider for integers. */
function adaptedBounds(d: Exclude<Distribution, { kind: 'categorical' }>): { low: number; high: number } {
  if (d.kind === 'int') return { low: d.low - d.step / 2, high: d.high + d.step / 2 };
  return d.log ? { low: Math.log(d.low), high: Math.log(d.high) } : { low: d.low, high: d.high };
}

function logSumExp(xs: readonly number[]): number {
  const max = Math.max(...xs);
  if (max === -Infinity) return -Infinity;
  return max + Math.log(xs.reduce((a, x) => a + Math.exp(x - max), 0));
}

/** log density (mass, for choices and integers) of the mixture at an internal value. */
export function parzenLogPdf(p: Parzen, x: number): number {
  if (p.kind === 'categorical')
    return logSumExp(p.weights.map((w, k) => Math.log(w) + Math.log((p.probs[k] as number[])[x] as number)));
  const terms = p.weights.map((w, k) => {
    const mu = p.mus[k] as number;
    const sigma = p.sigmas[k] as number;
    let lp: number;
    if (p.d.kind === 'int') {
      const half = p.d.step / 2;
      lp =
        logGaussMass((x - half - mu) / sigma, (x + half - mu) / sigma) -
        logGaussMass((p.low - mu) / sigma, (p.high - mu) / sigma);
    } else lp = truncnormLogPdf(p.d.log ? Math.log(x) : x, p.low, p.high, mu, sigma);
    return Math.log(w) + lp;
  });
  return logSumExp(terms);
}

/** Index i with probability weights[i]: the first whose cumulative sum exceeds u. */
function pick(weights: readonly number[], u: number): number {
  let acc = 0;
  for (let i = 0; i < weights.length - 1; i++) {
    acc += weights[i] as number;
    if (u < acc) return i;
  }
  return weights.length - 1;
}

/** `size` internal values drawn from the mixture: a kernel by weight, then a value from it. */
export function parzenSample(p: Parzen, rand: () => number, size: number): number[] {
  return Array.from({ length: size }, () => {
    const k = pick(p.weights, rand());
    if (p.kind === 'categorical') return pick(p.probs[k] as number[], rand());
    const mu = p.mus[k] as number;
    const sigma = p.sigmas[k] as number;
    const x = truncnormPpf(rand(), (p.low - mu) / sigma, (p.high - mu) / sigma) * sigma + mu;
    if (p.d.kind === 'int') return snapToStep(x, p.d.low, p.d.high, p.d.step);
    return p.d.log ? Math.min(p.d.high, Math.max(p.d.low, Math.exp(x))) : x;
  });
}
