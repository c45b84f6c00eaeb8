import assert from 'node:assert/strict';

/**
 * Asserts `got` equals the hand-computed `want` up to rounding: the expected values are written
 * as fractions, whose last bit can differ from the order of operations in the code under test.
 */
export function near(got: number, want: number, what: string, tol = 1e-12): void {
  assert.ok(Math.abs(got - want) <= tol, `${what}: got ${got}, expected ${want}`);
}

/** `near` for every field of an object of scores. */
export function nearAll(got: object, want: Record<string, number>, what: string): void {
  const fields = got as Record<string, unknown>;
  assert.deepEqual(Object.keys(fields).sort(), Object.keys(want).sort(), `${what}: keys`);
  for (const [key, value] of Object.entries(want)) {
    const v = fields[key];
    assert.equal(typeof v, 'number', `${what}.${key} is a number`);
    near(v as number, value, `${what}.${key}`);
  }
}
