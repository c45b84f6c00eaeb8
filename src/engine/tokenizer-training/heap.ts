/**
 * A binary max-heap of (priority, key) numbers: the highest priority first and, among equal
 * priorities, the smallest key (the order of the BPE trainer's `Merge`, a count and a pair).
 */
export class MaxHeap {
  private readonly priorities: number[] = [];
  private readonly keys: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(priority: number, key: number): void {
    this.priorities.push(priority);
    this.keys.push(key);
    this.up(this.keys.length - 1);
  }

  pop(): { priority: number; key: number } {
    const top = { priority: this.priorities[0] as number, key: this.keys[0] as number };
    const lastP = this.priorities.pop() as number;
    const lastK = this.keys.pop() as number;
    if (this.keys.length > 0) {
      this.priorities[0] = lastP;
      this.keys[0] = lastK;
      this.down(0);
    }
    return top;
  }

  private before(i: number, j: number): boolean {
    const pi = this.priorities[i] as number;
    const pj = this.priorities[j] as number;
    return pi > pj || (pi === pj && (this.keys[i] as number) < (this.keys[j] as number));
  }

  private swap(i: number, j: number): void {
    const p = this.priorities[i] as number;
    this.priorities[i] = this.priorities[j] as number;
    this.priorities[j] = p;
    const k = this.keys[i] as number;
    this.keys[i] = this.keys[j] as number;
    this.keys[j] = k;
  }

  private up(start: number): void {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(start: number): void {
    let i = start;
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n && this.before(l, best)) best = l;
      if (r < n && this.before(r, best)) best = r;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }
}
