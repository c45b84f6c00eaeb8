/**
 * Typed reads of a Hugging Face `config.json`. A missing or mistyped key is an error naming the key
 * and the file, so a broken model folder fails at load time, not mid-graph.
 */
export type HfConfig = Readonly<Record<string, unknown>>;

export class HfConfigReader {
  constructor(
    readonly raw: HfConfig,
    readonly source: string,
  ) {}

  private fail(key: string, expected: string): never {
    throw new Error(`${this.source}: key '${key}' must be ${expected}, got ${JSON.stringify(this.raw[key])}`);
  }

  num(key: string, dflt?: number): number {
    const v = this.raw[key];
    if (v === undefined || v === null) return dflt ?? this.fail(key, 'a number');
    return typeof v === 'number' && Number.isFinite(v) ? v : this.fail(key, 'a number');
  }

  int(key: string, dflt?: number): number {
    const v = this.num(key, dflt);
    return Number.isInteger(v) ? v : this.fail(key, 'an integer');
  }

  str(key: string, dflt?: string): string {
    const v = this.raw[key];
    if (v === undefined || v === null) return dflt ?? this.fail(key, 'a string');
    return typeof v === 'string' ? v : this.fail(key, 'a string');
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }
}
