import type { JsonSchema, SchemaType } from './config-schema.js';
import {
  type ConfigNode,
  closest,
  type Diagnostic,
  type Fix,
  type ObjectNode,
  type ParsedConfig,
  type Span,
  type TextEdit,
} from './config-tree.js';

/**
 * Our own validator over the schema subset config-schema.ts uses. Unlike a general JSON Schema
 * validator it knows where every key and value is in the text, so each diagnostic lands on the
 * offending value (or, for unknown keys, on the key) and can carry a quick fix.
 */
export type Path = (string | number)[];

interface Context {
  parsed: ParsedConfig;
  root: JsonSchema;
  out: Diagnostic[];
}

export function checkSchema(parsed: ParsedConfig, schema: JsonSchema): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (!parsed.root || (parsed.root.kind === 'scalar' && parsed.root.value === null)) {
    const at: Span = [0, 0];
    out.push(
      diag(parsed, 'error', 'The config file is empty: it needs at least model, task and data.', 'empty', [], at),
    );
    return out;
  }
  check({ parsed, root: schema, out }, parsed.root, schema, [], undefined);
  return out;
}

/**
 * Diagnostics of one value against a part of the schema (a sweep's values against the schema of the
 * key they are for), located on the value itself; `root` is the whole schema.
 */
export function checkValue(
  parsed: ParsedConfig,
  node: ConfigNode,
  schema: JsonSchema,
  path: Path,
  root: JsonSchema,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  check({ parsed, root, out }, node, schema, path, undefined);
  return out;
}

export function diag(
  parsed: ParsedConfig,
  severity: Diagnostic['severity'],
  message: string,
  code: string,
  path: Path,
  span: Span,
  fixes?: Fix[],
): Diagnostic {
  const d: Diagnostic = { severity, message, code, path, range: parsed.lines.range(span) };
  if (fixes && fixes.length > 0) d.fixes = fixes;
  return d;
}

/** A replacement for the text at span that keeps its quoting style. */
export function replaceEdit(parsed: ParsedConfig, span: Span, value: string): TextEdit {
  const raw = parsed.text.slice(span[0], span[1]);
  let newText = value;
  if (raw.startsWith('"') || parsed.format === 'json') newText = JSON.stringify(value);
  else if (raw.startsWith("'")) newText = `'${value.replaceAll("'", "''")}'`;
  return { range: parsed.lines.range(span), newText };
}

export function removeEdit(parsed: ParsedConfig, span: Span): TextEdit {
  return { range: parsed.lines.range(span), newText: '' };
}

const ARTICLE: Record<SchemaType, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  null: 'null',
};

function describeNode(node: ConfigNode): string {
  if (node.kind === 'object') return 'a mapping';
  if (node.kind === 'array') return 'a list';
  const v = node.value;
  if (v === null) return 'no value';
  if (typeof v === 'string') return `the string '${v}'`;
  return String(v);
}

function describeSchema(s: JsonSchema): string {
  if (s.enum) return s.enum.map((e) => `'${e}'`).join(' or ');
  const t = s.type ? ARTICLE[s.type] : 'a value';
  if (s.type === 'integer' && s.minimum === 1) return 'a positive integer';
  return t;
}

function typeMatches(node: ConfigNode, type: SchemaType | undefined): boolean {
  if (type === undefined) return true;
  if (type === 'object' || type === 'array') return node.kind === type;
  if (node.kind !== 'scalar') return false;
  const v = node.value;
  if (type === 'null') return v === null;
  if (type === 'string') return typeof v === 'string';
  if (type === 'boolean') return typeof v === 'boolean';
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  return type === 'number' || Number.isInteger(v);
}

/** Where a diagnostic on a value goes: the value, or its key when the value is empty (`key:`). */
function valueSpan(node: ConfigNode, keySpan: Span | undefined): Span {
  return node.span[0] === node.span[1] && keySpan ? keySpan : node.span;
}

function label(path: Path): string {
  if (path.length === 0) return 'The config';
  const last = path[path.length - 1];
  return typeof last === 'string'
    ? last
    : typeof last === 'number'
      ? `${String(path[path.length - 2])}[${last}]`
      : 'value';
}

function check(ctx: Context, node: ConfigNode, schema: JsonSchema, path: Path, keySpan: Span | undefined): void {
  const span = valueSpan(node, keySpan);
  if (schema.anyOf) {
    const branch = schema.anyOf.find((b) => typeMatches(node, b.type));
    const value = node.kind === 'scalar' ? node.value : undefined;
    // `every: epochs` matches the string branch by type but is neither alternative.
    if (!branch || (branch.enum && !branch.enum.includes(value as string))) {
      const expected = schema.anyOf.map(describeSchema).join(' or ');
      const words = schema.anyOf.flatMap((b) => (b.enum ?? []).map(String));
      const guess = typeof value === 'string' ? closest(value, words) : undefined;
      const msg = `${label(path)} must be ${expected}, got ${describeNode(node)}${guess ? `; did you mean '${guess}'?` : '.'}`;
      const fixes = guess ? [{ title: `Change to '${guess}'`, edits: [replaceEdit(ctx.parsed, span, guess)] }] : [];
      ctx.out.push(diag(ctx.parsed, 'error', msg, branch ? 'enum' : 'type', path, span, fixes));
      return;
    }
    check(ctx, node, branch, path, keySpan);
    return;
  }
  if (!typeMatches(node, schema.type)) {
    ctx.out.push(typeError(ctx, node, schema, path, span));
    return;
  }
  if (node.kind === 'scalar') checkScalar(ctx, node.value, schema, path, span);
  else if (node.kind === 'array') {
    if (schema.minItems !== undefined && node.items.length < schema.minItems) {
      const msg = `${label(path)} needs at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}.`;
      ctx.out.push(diag(ctx.parsed, 'error', msg, 'min-items', path, span));
    }
    const seen = new Set<string>();
    node.items.forEach((item, i) => {
      if (schema.items) check(ctx, item, schema.items, [...path, i], undefined);
      if (schema.uniqueItems && item.kind === 'scalar') {
        const k = JSON.stringify(item.value);
        if (seen.has(k)) {
          const msg = `${describeNode(item)} is listed twice in ${label(path)}.`;
          ctx.out.push(diag(ctx.parsed, 'warning', msg, 'duplicate-item', [...path, i], item.span));
        }
        seen.add(k);
      }
    });
  } else checkObject(ctx, node, schema, path, keySpan ?? [node.span[0], node.span[0]]);
}

function typeError(ctx: Context, node: ConfigNode, schema: JsonSchema, path: Path, span: Span): Diagnostic {
  const msg = `${label(path)} must be ${describeSchema(schema)}, got ${describeNode(node)}.`;
  const fixes: Fix[] = [];
  // A number written as a string ("2e-5" in JSON, '3' in YAML) is the commonest type slip.
  if ((schema.type === 'number' || schema.type === 'integer') && node.kind === 'scalar') {
    const v = node.value;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
    if (Number.isFinite(n) && (schema.type === 'number' || Number.isInteger(n))) {
      const edit = { range: ctx.parsed.lines.range(node.span), newText: String(v).trim() };
      fixes.push({ title: `Write ${edit.newText} as a number`, edits: [edit] });
    }
  }
  // YAML 1.1 booleans (yes, on, ...) are strings in YAML 1.2, which is what this parser reads.
  const yaml11 =
    node.kind === 'scalar' && typeof node.value === 'string' ? YAML11_BOOLEANS[node.value.toLowerCase()] : undefined;
  if (schema.type === 'boolean' && yaml11 !== undefined) {
    const edit = { range: ctx.parsed.lines.range(node.span), newText: String(yaml11) };
    fixes.push({ title: `Write ${edit.newText}`, edits: [edit] });
  }
  return diag(ctx.parsed, 'error', msg, 'type', path, span, fixes);
}

const YAML11_BOOLEANS: Record<string, boolean> = {
  yes: true,
  no: false,
  on: true,
  off: false,
  true: true,
  false: false,
  y: true,
  n: false,
};

function checkScalar(ctx: Context, v: unknown, s: JsonSchema, path: Path, span: Span): void {
  const name = label(path);
  const push = (msg: string, code: string, fixes?: Fix[]) =>
    ctx.out.push(diag(ctx.parsed, 'error', msg, code, path, span, fixes));
  if (s.enum && !s.enum.includes(v as string)) {
    const allowed = s.enum.map(String);
    const guess = typeof v === 'string' ? closest(v, allowed) : undefined;
    if (guess) {
      const fix = { title: `Change to '${guess}'`, edits: [replaceEdit(ctx.parsed, span, guess)] };
      push(`Unknown ${name} '${String(v)}'; did you mean '${guess}'?`, 'enum', [fix]);
    } else push(`Unknown ${name} '${String(v)}'. Expected one of: ${allowed.join(', ')}.`, 'enum');
    return;
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) push(`${name} must be at least ${s.minimum}, got ${v}.`, 'minimum');
    if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum)
      push(`${name} must be greater than ${s.exclusiveMinimum}, got ${v}.`, 'minimum');
    if (s.maximum !== undefined && v > s.maximum) push(`${name} must be at most ${s.maximum}, got ${v}.`, 'maximum');
    if (s.exclusiveMaximum !== undefined && v >= s.exclusiveMaximum)
      push(`${name} must be less than ${s.exclusiveMaximum}, got ${v}.`, 'maximum');
  }
  if (typeof v === 'string') {
    if (s.minLength !== undefined && v.length < s.minLength) push(`${name} must not be empty.`, 'min-length');
    else if (s.pattern !== undefined && !new RegExp(s.pattern).test(v))
      push(s.patternErrorMessage ?? `${name} does not match ${s.pattern}.`, 'pattern');
  }
}

function checkObject(ctx: Context, node: ObjectNode, schema: JsonSchema, path: Path, keySpan: Span): void {
  const props = schema.properties ?? {};
  const allowed = Object.keys(props);
  const seen = new Map<string, number>();
  // The keys a "did you mean" may suggest: allowed ones not already present (computed once, not
  // per unknown key: a mapping may hold many thousands of them).
  let unused: string[] | undefined;
  node.entries.forEach((entry, i) => {
    const entryPath = [...path, entry.key];
    const before = seen.get(entry.key);
    seen.set(entry.key, i);
    if (before !== undefined) {
      const fix = { title: `Remove this '${entry.key}'`, edits: [removeEdit(ctx.parsed, entry.removeSpan)] };
      const msg = `Duplicate key '${entry.key}': only the last one is used.`;
      ctx.out.push(diag(ctx.parsed, 'error', msg, 'duplicate-key', entryPath, entry.keySpan, [fix]));
    }
    const propSchema = props[entry.key];
    if (propSchema) {
      check(ctx, entry.value, propSchema, entryPath, entry.keySpan);
      return;
    }
    if (schema.additionalProperties !== false) return;
    if (!unused) {
      const present = new Set(node.entries.map((e) => e.key));
      unused = allowed.filter((k) => !present.has(k));
    }
    ctx.out.push(unknownKey(ctx, entry.key, entry.keySpan, entry.removeSpan, allowed, unused, entryPath));
  });
  for (const key of schema.required ?? []) {
    if (seen.has(key)) continue;
    const where = path.length === 0 ? '' : ` in ${label(path)}`;
    const msg = `Missing required key '${key}'${where}.`;
    ctx.out.push(diag(ctx.parsed, 'error', msg, 'required', [...path, key], keySpan));
  }
}

function unknownKey(
  ctx: Context,
  key: string,
  keySpan: Span,
  removeSpan: Span,
  allowed: string[],
  unused: string[],
  path: Path,
): Diagnostic {
  const where = path.length > 1 ? ` in ${label(path.slice(0, -1))}` : '';
  const guess = closest(key, unused);
  const remove = { title: `Remove '${key}'`, edits: [removeEdit(ctx.parsed, removeSpan)] };
  if (guess) {
    const rename = { title: `Change to '${guess}'`, edits: [replaceEdit(ctx.parsed, keySpan, guess)] };
    const msg = `Unknown key '${key}'${where}; did you mean '${guess}'?`;
    return diag(ctx.parsed, 'error', msg, 'unknown-key', path, keySpan, [rename, remove]);
  }
  const home = homeOf(ctx.root, key);
  const msg = home
    ? `Unknown key '${key}'${where}; it belongs in '${home}'.`
    : `Unknown key '${key}'${where}. Allowed keys: ${allowed.filter((k) => k !== '$schema').join(', ')}.`;
  return diag(ctx.parsed, 'error', msg, 'unknown-key', path, keySpan, [remove]);
}

/**
 * The dotted path of the object where a key is defined, for keys put at the wrong level: the
 * shallowest such object (breadth first, then schema order), so `batch_size` belongs in `training`,
 * not in a nested block that also has one (data.augment.back_translation). Computed once per
 * schema, since a file may have thousands of unknown keys.
 */
function homeOf(schema: JsonSchema, key: string): string | undefined {
  let homes = HOMES.get(schema);
  if (!homes) {
    const found = new Map<string, string>();
    let level: { s: JsonSchema; at: string[] }[] = [{ s: schema, at: [] }];
    while (level.length > 0) {
      const next: typeof level = [];
      for (const { s, at } of level)
        for (const [name, sub] of Object.entries(s.properties ?? {})) {
          if (at.length > 0 && !found.has(name)) found.set(name, at.join('.'));
          next.push({ s: sub, at: [...at, name] });
        }
      level = next;
    }
    homes = found;
    HOMES.set(schema, homes);
  }
  return homes.get(key);
}

const HOMES = new WeakMap<JsonSchema, Map<string, string>>();
