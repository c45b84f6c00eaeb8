/**
 * A deliberately plain n-gram model for the tests: string keys in Maps and a top-down recursion,
 * written straight from the specification (issue 5, section 7) and sharing no code with
 * src/engine/ngram, so that the typed-array implementation is checked against a second reading.
 */
type Smoothing = 'mle' | 'laplace' | 'kneser-ney' | 'modified-kneser-ney';

interface Table {
  /** history (words joined by a space) -> word -> count used at that order. */
  rows: Map<string, Map<string, number>>;
  discounts: [number, number, number];
}

export class NaiveModel {
  readonly vocab = new Set<string>(['</s>', '<unk>']);
  private readonly tables: Table[] = [];

  constructor(
    lines: readonly string[],
    readonly order: number,
    readonly smoothing: Smoothing,
    readonly discount = 0.75,
    readonly k = 1,
  ) {
    const sentences = lines.map(words).filter((ws) => ws.length > 0);
    for (const ws of sentences) for (const w of ws) this.vocab.add(w);
    const padded = sentences.map((ws) => [...Array<string>(order - 1).fill('<s>'), ...ws, '</s>']);
    for (let level = 1; level <= order; level++) {
      const rows = new Map<string, Map<string, number>>();
      const add = (h: string, w: string) => {
        const row = rows.get(h) ?? new Map<string, number>();
        rows.set(h, row);
        row.set(w, (row.get(w) ?? 0) + 1);
      };
      if (level === order) {
        for (const s of padded)
          for (let i = order - 1; i < s.length; i++) add(s.slice(i - level + 1, i).join(' '), s[i] as string);
      } else {
        // Each distinct (level+1)-gram ending at a predicted position adds 1 to its suffix.
        const seen = new Set<string>();
        for (const s of padded) {
          for (let i = order - 1; i < s.length; i++) {
            const longer = s.slice(i - level, i + 1);
            const key = longer.join(' ');
            if (seen.has(key)) continue;
            seen.add(key);
            add(longer.slice(1, -1).join(' '), s[i] as string);
          }
        }
      }
      this.tables.push({ rows, discounts: this.discountsOf(rows, level) });
    }
  }

  private discountsOf(rows: Map<string, Map<string, number>>, level: number): [number, number, number] {
    if (this.smoothing === 'kneser-ney') return [this.discount, this.discount, this.discount];
    if (this.smoothing !== 'modified-kneser-ney') return [0, 0, 0];
    const n = [0, 0, 0, 0, 0];
    for (const row of rows.values()) for (const c of row.values()) if (c <= 4) n[c] = (n[c] as number) + 1;
    const [, n1, n2, n3, n4] = n as [number, number, number, number, number];
    if (n1 === 0 || n2 === 0 || n3 === 0 || n4 === 0)
      throw new Error(`naive: a zero count of counts at order ${level}`);
    const y = n1 / (n1 + 2 * n2);
    const d: [number, number, number] = [1 - (2 * y * n2) / n1, 2 - (3 * y * n3) / n2, 3 - (4 * y * n4) / n3];
    if (d.some((x) => x < 0)) throw new Error(`naive: a negative discount at order ${level}`);
    return d;
  }

  /** p(word | history) with history exactly order-1 strings ('<s>' is the padding). */
  prob(word: string, history: readonly string[]): number {
    const w = this.vocab.has(word) ? word : '<unk>';
    const h = history.map((x) => (x === '<s>' || this.vocab.has(x) ? x : '<unk>'));
    const top = this.tables[this.order - 1] as Table;
    if (this.smoothing === 'mle' || this.smoothing === 'laplace') {
      const row = top.rows.get(h.join(' '));
      const total = row ? [...row.values()].reduce((a, b) => a + b, 0) : 0;
      const c = row?.get(w) ?? 0;
      if (this.smoothing === 'laplace') return (c + this.k) / (total + this.k * this.vocab.size);
      return total === 0 ? 0 : c / total;
    }
    return this.interpolated(this.order, h, w);
  }

  /** c(h) and the discounted mass Σ_w D(c(h w)) of one row, computed once per row. */
  private readonly rowSums = new Map<Map<string, number>, { total: number; mass: number }>();
  private sums(row: Map<string, number>, discounts: readonly number[]): { total: number; mass: number } {
    let s = this.rowSums.get(row);
    if (!s) {
      s = { total: 0, mass: 0 };
      for (const c of row.values()) {
        s.total += c;
        s.mass += discounts[Math.min(c, 3) - 1] as number;
      }
      this.rowSums.set(row, s);
    }
    return s;
  }

  private interpolated(level: number, h: readonly string[], w: string): number {
    if (level === 0) return 1 / this.vocab.size;
    const lower = this.interpolated(level - 1, h.slice(1), w);
    const { rows, discounts } = this.tables[level - 1] as Table;
    const row = rows.get(h.join(' '));
    if (!row) return lower;
    const { total, mass } = this.sums(row, discounts);
    const c = row.get(w) ?? 0;
    const discounted = c === 0 ? 0 : Math.max(c - (discounts[Math.min(c, 3) - 1] as number), 0);
    return discounted / total + (mass / total) * lower;
  }
}

function words(line: string): string[] {
  return line
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
}
