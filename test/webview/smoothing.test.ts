import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emaExtend, emaSmooth, emaStart } from '../../src/webview/smoothing.js';

/** TensorBoard's loop, written out independently as the reference. */
function reference(values: number[], w: number): number[] {
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    last = last * w + (1 - w) * v;
    n++;
    return last / (w === 1 ? 1 : 1 - w ** n);
  });
}

function close(actual: (number | null)[], expected: number[], eps = 1e-12): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => {
    const e = expected[i] as number;
    if (Number.isNaN(e)) assert.ok(Number.isNaN(a as number), `index ${i}: ${a} is not NaN`);
    else if (!Number.isFinite(e)) assert.equal(a, e);
    else assert.ok(Math.abs((a as number) - e) <= eps * Math.max(1, Math.abs(e)), `index ${i}: ${a} != ${e}`);
  });
}

test('debiased EMA matches hand-computed values', () => {
  // w = 0.5: last1 = 0.5*0 + 0.5*1 = 0.5, debiased by 1 - 0.5 = 0.5 -> 1;
  // last2 = 0.25 + 0.5*3 = 1.75, debiased by 1 - 0.25 = 0.75 -> 2.333...;
  // last3 = 0.875 + 0.5*2 = 1.875, debiased by 0.875 -> 2.142857...
  close(emaSmooth([1, 3, 2], 0.5), [1, 7 / 3, 1.875 / 0.875]);
});

test('the first point is not pulled toward zero (that is what debiasing is for)', () => {
  const out = emaSmooth([10, 10.5], 0.99);
  assert.equal(out[0], 10);
  assert.ok((out[1] as number) > 10 && (out[1] as number) < 10.5);
});

test('weight 0 leaves the series as it is; larger weights smooth more', () => {
  const noisy = Array.from({ length: 200 }, (_, i) => Math.exp(-i / 50) + (i % 2 === 0 ? 0.2 : -0.2));
  close(emaSmooth(noisy, 0), noisy);
  const roughness = (s: (number | null)[]) =>
    s.slice(1).reduce<number>((acc, v, i) => acc + Math.abs((v as number) - (s[i] as number)), 0);
  const r0 = roughness(noisy);
  const r6 = roughness(emaSmooth(noisy, 0.6));
  const r95 = roughness(emaSmooth(noisy, 0.95));
  assert.ok(r6 < r0 && r95 < r6, `${r0} > ${r6} > ${r95}`);
  close(emaSmooth(noisy, 0.95), reference(noisy, 0.95));
});

test('non-finite values pass through and do not enter the average', () => {
  const out = emaSmooth([1, Number.NaN, 3, Number.POSITIVE_INFINITY, 2], 0.5);
  close(out, [1, Number.NaN, 7 / 3, Number.POSITIVE_INFINITY, 1.875 / 0.875]);
  assert.deepEqual(emaSmooth([null, 2], 0.5), [null, 2]);
});

test('a constant series stays exactly constant (no rounding wobble from the division)', () => {
  const flat = Array.from({ length: 1000 }, () => 0.1);
  assert.ok(emaSmooth(flat, 0.999).every((v) => v === 0.1));
});

test('appending in pieces gives exactly what smoothing the whole series gives', () => {
  const values = Array.from({ length: 1000 }, (_, i) => Math.sin(i / 7) + i / 100);
  const whole = emaSmooth(values, 0.9);
  const state = emaStart(0.9);
  const out: (number | null)[] = [];
  for (let start = 0; start < values.length; start += 37) emaExtend(state, values.slice(0, start + 37), out, start);
  assert.deepEqual(out, whole);
});

test('weights outside [0, 1] are refused', () => {
  assert.throws(() => emaStart(1.5), RangeError);
  assert.throws(() => emaStart(-0.1), RangeError);
});
