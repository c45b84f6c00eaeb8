/**
 * Typed reads of a Hugging Face `config.json`. A missing or mistyped key is an error naming the key
 * and the file, so a broken model folder fails at load time, not mid-graph.
 */
/**
 * `config.json` of a Hugging Face model folder. Typed loosely: the keys every encoder family
 * shares are named (and checked for type on read, so a wrong value fails there, naming the key);
 * family-specific keys pass through as-is and are written back unchanged.
 */
export interface HfConfig {
  model_type?: string;
  architectures?: string[];
  hidden_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  intermediate_size?: number;
  hidden_act?: string;
  hidden_dropout_prob?: number;
  attention_probs_dropout_prob?: number;
  max_position_embeddings?: number;
  type_vocab_size?: number;
  layer_norm_eps?: number;
  initializer_range?: number;
  vocab_size?: number;
  pad_token_id?: number | null;
  /** JSON object keys are strings: `{"0": "negative", "1": "positive"}`. */
  id2label?: Record<string, string>;
  label2id?: Record<string, number>;
  torch_dtype?: string;
  transformers_version?: string;
  [key: string]: unknown;
}

export class HfConfigReader {
  constructor(
    readonly raw: Readonly<HfConfig>,
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

  bool(key: string, dflt?: boolean): boolean {
    const v = this.raw[key];
    if (v === undefined || v === null) return dflt ?? this.fail(key, 'true or false');
    return typeof v === 'boolean' ? v : this.fail(key, 'true or false');
  }

  /**
   * An integer key that may be null (pad_token_id): undefined when null, `dflt` (the config
   * class's default) when absent.
   */
  nullableInt(key: string, dflt: number): number | undefined {
    return this.raw[key] === null ? undefined : this.int(key, dflt);
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }
}
