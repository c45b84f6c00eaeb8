import type { Dim, Shape } from './types.js';

/**
 * Arithmetic on possibly symbolic dimensions. A symbolic dim is a product of named factors with
 * an integer coefficient, written canonically ("batch*seq", "4*batch"), so equal products compare
 * equal as strings. That is all shape inference needs: Reshape's -1 and 0, Flatten, broadcasting.
 */
interface Monomial {
  coef: number;
  syms: string[];
}

function parse(d: Dim): Monomial {
  if (typeof d === 'number') return { coef: d, syms: [] };
  let coef = 1;
  const syms: string[] = [];
  for (const part of d.split('*')) {
    const n = Number(part);
    if (part !== '' && Number.isInteger(n)) coef *= n;
    else syms.push(part);
  }
  return { coef, syms: syms.sort() };
}

function format(m: Monomial): Dim {
  if (m.syms.length === 0) return m.coef;
  const body = m.syms.join('*');
  return m.coef === 1 ? body : `${m.coef}*${body}`;
}

/** A dim as integer coefficient × named factors ("4*batch*seq" → 4, [batch, seq]). */
export function dimFactors(d: Dim): { coef: number; syms: readonly string[] } {
  return parse(d);
}

export function mulDims(dims: readonly Dim[]): Dim {
  const acc: Monomial = { coef: 1, syms: [] };
  for (const d of dims) {
    const m = parse(d);
    acc.coef *= m.coef;
    acc.syms.push(...m.syms);
  }
  acc.syms.sort();
  return format(acc);
}

/** a / b where b divides a exactly; undefined when it does not (or cannot be known). */
export function divDims(a: Dim, b: Dim): Dim | undefined {
  const ma = parse(a);
  const mb = parse(b);
  if (mb.coef === 0 || ma.coef % mb.coef !== 0) return undefined;
  const syms = [...ma.syms];
  for (const s of mb.syms) {
    const i = syms.indexOf(s);
    if (i < 0) return undefined;
    syms.splice(i, 1);
  }
  return format({ coef: ma.coef / mb.coef, syms });
}

export const dimsEqual = (a: Dim, b: Dim): boolean => String(format(parse(a))) === String(format(parse(b)));

/** Numpy-style broadcast of two shapes; throws naming both shapes when they cannot broadcast. */
export function broadcastShapes(a: Shape, b: Shape, where: string): Shape {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === 1) out.push(db);
    else if (db === 1 || dimsEqual(da, db)) out.push(da);
    else if (typeof da === 'number' && typeof db === 'number') {
      throw new Error(`${where}: shapes [${a.join(', ')}] and [${b.join(', ')}] cannot broadcast`);
    } else {
      // A symbol against a number or another symbol: trust the concrete size when there is one.
      out.push(typeof da === 'number' ? da : db);
    }
  }
  return out;
}

export const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);
