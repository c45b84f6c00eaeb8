import { rng } from '../shared/random.js';

/**
 * Per-parameter importance of a sweep, the way Optuna's FanovaImportanceEvaluator computes it
 * (Hutter, Hoos and Leyton-Brown 2014, "An Efficient Approach for Assessing Hyperparameter
 * Importance"): a random forest of regression trees is fitted to the finished trials (parameters
 * → objective), and for each tree the variance of its prediction over the whole search space is
 * decomposed exactly: the variance of the marginal prediction of one parameter (the others
 * integrated out, uniformly over their ranges), divided by the tree's total variance, is that
 * parameter's first-order (main-effect) fraction. The fractions are averaged over the trees that
 * vary and normalized to sum to 1 (as FanovaImportanceEvaluator.evaluate does).
 *
 * As in Optuna (scikit-learn's RandomForestRegressor with its settings): 64 trees, bootstrap
 * samples, every feature tried at every split, splits at the midpoint between neighbouring
 * values, the sum of squared errors as criterion, a leaf may hold one trial; parameters on the
 * scale they are sampled on (a loguniform one is not log-transformed: transform_log=False).
 * Unlike Optuna, a categorical parameter is one ordinal feature (its choice's index, each choice
 * an equal share of the range) instead of one-hot columns: a tree can still isolate any choice,
 * with more splits. The forest's random draws are ours (seeded), so the numbers are not Optuna's
 * digit for digit. Pure functions, no DOM: unit-tested in Node.
 */
export type TreeNode = { value: number } | { feature: number; threshold: number; left: TreeNode; right: TreeNode };

export interface ImportanceOptions {
  trees?: number;
  seed?: number;
  maxDepth?: number;
}

export const FOREST_TREES = 64;
const MAX_DEPTH = 64;

/** A CART regression tree on the rows `idx` of `x` (rows of features) and `y`. */
export function fitTree(x: readonly number[][], y: readonly number[], idx: number[], depth = MAX_DEPTH): TreeNode {
  const mean = idx.reduce((s, i) => s + (y[i] as number), 0) / idx.length;
  if (depth === 0 || idx.length < 2) return { value: mean };
  const features = x[0]?.length ?? 0;
  let best: { feature: number; threshold: number; sse: number } | undefined;
  const total = sse(idx.map((i) => y[i] as number));
  for (let f = 0; f < features; f++) {
    const sorted = [...idx].sort((a, b) => (x[a]?.[f] as number) - (x[b]?.[f] as number));
    // Running sums: the SSE of every split in one pass.
    let leftSum = 0;
    let leftSq = 0;
    let rightSum = 0;
    let rightSq = 0;
    for (const i of sorted) {
      rightSum += y[i] as number;
      rightSq += (y[i] as number) ** 2;
    }
    for (let k = 0; k < sorted.length - 1; k++) {
      const yi = y[sorted[k] as number] as number;
      leftSum += yi;
      leftSq += yi * yi;
      rightSum -= yi;
      rightSq -= yi * yi;
      const a = x[sorted[k] as number]?.[f] as number;
      const b = x[sorted[k + 1] as number]?.[f] as number;
      if (a === b) continue;
      const nl = k + 1;
      const nr = sorted.length - nl;
      const split = leftSq - (leftSum * leftSum) / nl + (rightSq - (rightSum * rightSum) / nr);
      if (!best || split < best.sse - 1e-12) best = { feature: f, threshold: (a + b) / 2, sse: split };
    }
  }
  if (!best || best.sse >= total - 1e-12) return { value: mean };
  const { feature, threshold } = best;
  const left = idx.filter((i) => (x[i]?.[feature] as number) <= threshold);
  const right = idx.filter((i) => (x[i]?.[feature] as number) > threshold);
  return {
    feature,
    threshold,
    left: fitTree(x, y, left, depth - 1),
    right: fitTree(x, y, right, depth - 1),
  };
}

function sse(values: number[]): number {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return values.reduce((s, v) => s + (v - mean) ** 2, 0);
}

interface Leaf {
  box: [number, number][];
  value: number;
}

function leavesOf(node: TreeNode, box: [number, number][], out: Leaf[]): Leaf[] {
  if ('value' in node) {
    out.push({ box, value: node.value });
    return out;
  }
  const [lo, hi] = box[node.feature] as [number, number];
  const cut = Math.min(hi, Math.max(lo, node.threshold));
  const left = box.map((b, i) => (i === node.feature ? ([lo, cut] as [number, number]) : b));
  const right = box.map((b, i) => (i === node.feature ? ([cut, hi] as [number, number]) : b));
  leavesOf(node.left, left, out);
  leavesOf(node.right, right, out);
  return out;
}

/**
 * One tree's first-order variance fractions V_i / V over the box `bounds` (one [low, high] per
 * feature, the uniform measure on it), or undefined when the tree's prediction is constant there.
 */
export function treeMainEffects(tree: TreeNode, bounds: readonly [number, number][]): number[] | undefined {
  const width = bounds.map(([lo, hi]) => hi - lo);
  const leaves = leavesOf(
    tree,
    bounds.map((b) => [b[0], b[1]]),
    [],
  ).filter((l) => l.box.every(([lo, hi]) => hi > lo));
  const share = (l: Leaf, f: number) =>
    ((l.box[f] as [number, number])[1] - (l.box[f] as [number, number])[0]) / (width[f] as number);
  const weight = leaves.map((l) => l.box.reduce((w, _, f) => w * share(l, f), 1));
  const mean = leaves.reduce((s, l, k) => s + (weight[k] as number) * l.value, 0);
  const total = leaves.reduce((s, l, k) => s + (weight[k] as number) * (l.value - mean) ** 2, 0);
  if (!(total > 1e-15)) return undefined;
  return bounds.map((_, f) => {
    // The marginal prediction is constant between neighbouring cut points of this feature.
    const cuts = [...new Set(leaves.flatMap((l) => l.box[f] as [number, number]))].sort((a, b) => a - b);
    let variance = 0;
    for (let k = 0; k + 1 < cuts.length; k++) {
      const a = cuts[k] as number;
      const b = cuts[k + 1] as number;
      let marginal = 0;
      leaves.forEach((l, j) => {
        const [lo, hi] = l.box[f] as [number, number];
        if (lo <= a && hi >= b) marginal += ((weight[j] as number) / share(l, f)) * l.value;
      });
      variance += ((b - a) / (width[f] as number)) * (marginal - mean) ** 2;
    }
    return variance / total;
  });
}

/**
 * The normalized fANOVA importances of the features of `x` for `y`, within `bounds`; undefined
 * when no tree varies (fewer than two distinct objectives).
 */
export function fanovaImportance(
  x: readonly number[][],
  y: readonly number[],
  bounds: readonly [number, number][],
  options: ImportanceOptions = {},
): number[] | undefined {
  const trees = options.trees ?? FOREST_TREES;
  const rand = rng(options.seed ?? 0);
  const sums = bounds.map(() => 0);
  let counted = 0;
  for (let t = 0; t < trees; t++) {
    // A bootstrap sample: as many rows as there are, drawn with replacement.
    const sample = y.map(() => Math.floor(rand() * y.length));
    const effects = treeMainEffects(fitTree(x, y, sample, options.maxDepth ?? MAX_DEPTH), bounds);
    if (!effects) continue;
    counted++;
    effects.forEach((e, f) => {
      sums[f] = (sums[f] as number) + e;
    });
  }
  if (counted === 0) return undefined;
  const means = sums.map((s) => s / counted);
  const norm = means.reduce((s, v) => s + v, 0);
  return norm > 0 ? means.map((m) => m / norm) : undefined;
}
