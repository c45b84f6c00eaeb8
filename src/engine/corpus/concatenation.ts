/**
 * The positions of pieces laid end to end (texts concatenated into one token stream, to be cut into
 * blocks): where each piece starts, the total, and the piece holding a position, found by binary
 * search over the starts, so only one number a piece is held.
 */
export class Concatenation {
  /** starts[j]: where piece j begins; starts[count]: the total length. */
  readonly starts: Float64Array;

  constructor(count: number, lengthOf: (piece: number) => number) {
    this.starts = new Float64Array(count + 1);
    for (let j = 0; j < count; j++) this.starts[j + 1] = (this.starts[j] as number) + lengthOf(j);
  }

  get total(): number {
    return this.starts[this.starts.length - 1] as number;
  }

  /** The last piece starting at or before position p (the one holding it, past any empty pieces). */
  pieceAt(p: number): number {
    let lo = 0;
    let hi = this.starts.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= p) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
