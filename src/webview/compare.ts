import type { JsonValue } from '../shared/messages.js';

/**
 * The hyperparameters in which runs differ, for the comparison legend: "bert-20250101-120000
 * (learning_rate=3e-5, lora.r=16)". Configs are compared leaf by leaf; lists compare as a whole
 * (`metrics=[accuracy, f1]`). A key set in one run and missing in another is a difference, shown
 * as `key=—` where it is missing. Keys that name where output goes, not how the model is trained,
 * are left out.
 */
const IGNORED = new Set(['output_dir', '$schema']);

export interface RunConfig {
  id: string;
  config: JsonValue | undefined;
}

/** Each run's differing keys as `name=value`, in the order the keys first appear. */
export function differingHyperparameters(runs: readonly RunConfig[]): Map<string, string[]> {
  const flat = runs.map((r) => flatten(r.config));
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const f of flat) {
    for (const k of f.keys()) {
      if (!seen.has(k)) {
        seen.add(k);
        keys.push(k);
      }
    }
  }
  const differing = keys.filter((k) => new Set(flat.map((f) => f.get(k) ?? MISSING)).size > 1);
  const names = shortNames(differing);
  const out = new Map<string, string[]>();
  runs.forEach((run, i) => {
    const f = flat[i] as Map<string, string>;
    out.set(
      run.id,
      differing.map((k) => `${names.get(k)}=${f.get(k) ?? '—'}`),
    );
  });
  return out;
}

/** The legend label of a run: its id, and what differs from the other runs shown. */
export function legendLabel(id: string, differences: readonly string[] | undefined, max = 4): string {
  if (!differences || differences.length === 0) return id;
  const shown = differences.slice(0, max).join(', ');
  const more = differences.length > max ? `, +${differences.length - max} more` : '';
  return `${id} (${shown}${more})`;
}

const MISSING = '\u0000missing';

function flatten(config: JsonValue | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (value: JsonValue, path: string): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (path === '' && IGNORED.has(k)) continue;
        walk(v, path ? `${path}.${k}` : k);
      }
    } else if (path !== '') {
      out.set(path, show(value));
    }
  };
  if (config !== undefined) walk(config, '');
  return out;
}

function show(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * The shortest unambiguous name of each key: its last segment (`learning_rate`), or more segments
 * where the last is shared (`training.dropout` and `lora.dropout`).
 */
function shortNames(keys: readonly string[]): Map<string, string> {
  const parts = keys.map((k) => k.split('.'));
  const names = new Map<string, string>();
  for (let i = 0; i < keys.length; i++) {
    const p = parts[i] as string[];
    let n = 1;
    const nameOf = (q: string[], m: number) => q.slice(Math.max(0, q.length - m)).join('.');
    while (n < p.length && parts.some((q, j) => j !== i && nameOf(q, n) === nameOf(p, n))) n++;
    names.set(keys[i] as string, nameOf(p, n));
  }
  return names;
}
