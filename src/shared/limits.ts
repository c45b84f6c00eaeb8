/**
 * Bounds on what the engine and the extension read, in one place. Every reader of a file a user
 * (or a downloaded model) supplies stops at one of these with an error that names the file, and
 * the config validator, which also runs in the VS Code extension host, does bounded work whatever
 * the text: a config that hangs the validator would freeze the editor.
 *
 * The values are far above anything real (so no real file is refused) and far below what would
 * exhaust memory or time.
 */

/**
 * A config file (`*.finetune.yaml|yml|json`): real ones are a few KB at most. Not more, because
 * the editor parses the config on every edit and the `yaml` library alone takes about a second on
 * 256 KB of the densest YAML (a flow list of 100,000 numbers; 2.5 to 4 s at 1 MB, measured).
 */
export const MAX_CONFIG_BYTES = 256 << 10;

/**
 * Nesting of mappings and lists in a config (a real one nests 3 deep). The `yaml` and
 * `jsonc-parser` libraries recurse once per level and overflow the stack near a thousand levels
 * (where V8 can even abort the process), so deeper texts are refused before they are composed.
 */
export const MAX_CONFIG_DEPTH = 64;

/**
 * Values that YAML aliases may add to a config, counted per use: `*a` adds the size of the value
 * anchored `&a`. Without a bound, a few lines of nested aliases ("billion laughs") expand to
 * billions of values. The `yaml` library's own bound (`maxAliasCount`) guards only its toJS(),
 * which the validator does not call: it walks the document itself.
 */
export const MAX_ALIAS_VALUES = 10_000;

/** Diagnostics listed for one config; the rest are counted in one last diagnostic. */
export const MAX_DIAGNOSTICS = 1000;

/**
 * The model's `config.json` (and the small JSON files beside it: tokenizer_config.json,
 * special_tokens_map.json, the shard index). Real ones are a few KB; an id2label of 20,000
 * classes is under 1 MB.
 */
export const MAX_MODEL_JSON_BYTES = 4 << 20;

/**
 * A file of a run directory the extension reads whole (status.json, config.yaml,
 * final/metrics.json): the engine writes a few KB.
 */
export const MAX_RUN_FILE_BYTES = 4 << 20;

/** `tokenizer.json`: the largest published ones (256k-token vocabularies) are about 35 MB. */
export const MAX_TOKENIZER_BYTES = 64 << 20;

/**
 * One line of a JSONL, CSV or TSV data file (and one CSV record, which may span lines). A long
 * document for causal-LM is a few MB; a file without line breaks (minified JSON, a binary file)
 * is refused here, at its first line, instead of being read into memory whole.
 */
export const MAX_LINE_BYTES = 16 << 20;

/**
 * The JSON header of a safetensors file: the format's own limit (MAX_HEADER_SIZE in the Rust
 * crate). A header length past this or past the file's end means the file is not safetensors.
 */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

/** Bytes of a string in UTF-8, counting at most up to `stop` (TextEncoder is not in the shared lib). */
export function utf8Length(s: string, stop = Number.POSITIVE_INFINITY): number {
  let n = 0;
  for (let i = 0; i < s.length && n <= stop; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Bytes as a person reads them: `1.5 MB`, `256 KB`, `800 bytes` (powers of 1024, as the limits are). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number(v.toFixed(1))} ${units[u]}`;
}

/** The size of something over `limit`, exact where rounding would make it read as the limit itself. */
export function formatOver(size: number, limit: number): string {
  const text = formatBytes(size);
  return text === formatBytes(limit) ? `${size} bytes` : text;
}
