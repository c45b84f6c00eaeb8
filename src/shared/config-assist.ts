import { getLocation } from 'jsonc-parser';
import { CONFIG_SCHEMA, type JsonSchema, METRIC_TASKS } from './config-schema.js';
import {
  type ConfigFormat,
  type ConfigNode,
  LineIndex,
  nodeAt,
  type Position,
  parseConfigText,
  type Range,
  type Span,
} from './config-tree.js';

/**
 * Completion and hover for config files, as pure functions of (text, position), for the
 * extension's providers. They work on half-typed text: JSON through jsonc-parser's tolerant
 * location lookup, YAML through indentation (a YAML parser reads `training:\n  lea` as the value
 * "lea", not as a key being typed).
 */
export type SchemaPath = (string | number)[];

export interface CompletionItem {
  label: string;
  kind: 'key' | 'value';
  /** The type and default, e.g. `number, default 2e-5`. */
  detail: string;
  documentation: string;
  insertText: string;
}

export interface Completions {
  items: CompletionItem[];
  /** The text each item's insertText replaces. */
  range: Range;
  /** Where a value is being completed (`['model']` for `model: `), so a host can add values of its own. */
  valuePath?: SchemaPath;
}

export interface Hover {
  /** Markdown. */
  contents: string;
  range: Range;
}

/** The schema of the value at a path (array indices step into `items`), or undefined. */
export function schemaAt(path: readonly (string | number)[], root: JsonSchema = CONFIG_SCHEMA): JsonSchema | undefined {
  let s: JsonSchema | undefined = root;
  for (const step of path) {
    if (!s) return undefined;
    s = typeof step === 'number' ? s.items : s.properties?.[step];
  }
  return s;
}

function typeName(s: JsonSchema): string {
  if (s.anyOf) return s.anyOf.map(typeName).join(' | ');
  if (s.enum) return s.enum.map((e) => `'${e}'`).join(' | ');
  if (s.type === 'array' && s.items) return `${typeName(s.items)}[]`;
  return s.type ?? 'any';
}

/** A default as written in a config: 2e-5 rather than 0.00002. */
function show(v: unknown): string {
  if (typeof v === 'string') return v;
  return typeof v === 'number' && v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential() : JSON.stringify(v);
}

function detail(s: JsonSchema): string {
  return s.default === undefined ? typeName(s) : `${typeName(s)}, default ${show(s.default)}`;
}

/** The JSON type(s) of a schema without enum values, for hover headers. */
function baseType(s: JsonSchema): string {
  if (s.anyOf) return s.anyOf.map(baseType).join(' | ');
  if (s.type === 'array' && s.items) return `${baseType(s.items)}[]`;
  return s.type ?? 'any';
}

/** Enum values of a schema and of its anyOf branches, with their descriptions. */
function enumValues(s: JsonSchema): { value: string | number | boolean; doc: string }[] {
  if (s.anyOf) return s.anyOf.flatMap(enumValues);
  if (s.type === 'boolean')
    return [
      { value: true, doc: '' },
      { value: false, doc: '' },
    ];
  return (s.enum ?? []).map((value, i) => ({ value, doc: s.enumDescriptions?.[i] ?? '' }));
}

function valueItems(s: JsonSchema | undefined, format: ConfigFormat, taken: ReadonlySet<string>): CompletionItem[] {
  if (!s) return [];
  const items = enumValues(s)
    .filter((e) => !taken.has(String(e.value)))
    .map((e) => ({
      label: String(e.value),
      kind: 'value' as const,
      detail: e.value === s.default ? 'default' : typeName(s),
      documentation: e.doc,
      insertText: format === 'json' ? JSON.stringify(e.value) : String(e.value),
    }));
  if (items.length === 0 && s.default !== undefined && typeof s.default !== 'object') {
    const text = format === 'json' ? JSON.stringify(s.default) : String(s.default);
    items.push({ label: text, kind: 'value', detail: 'default', documentation: s.description ?? '', insertText: text });
  }
  return items;
}

function keyItems(
  s: JsonSchema | undefined,
  format: ConfigFormat,
  present: ReadonlySet<string>,
  indent: number,
): CompletionItem[] {
  return Object.entries(s?.properties ?? {})
    .filter(([key]) => !present.has(key) && key !== '$schema')
    .map(([key, sub]) => {
      const child = ' '.repeat(indent + 2);
      let insertText = `${key}: `;
      if (format === 'json') insertText = `${JSON.stringify(key)}: `;
      else if (sub.type === 'object') insertText = `${key}:\n${child}`;
      else if (sub.type === 'array') insertText = `${key}:\n${child}- `;
      return {
        label: key,
        kind: 'key' as const,
        detail: detail(sub),
        documentation: sub.description ?? '',
        insertText,
      };
    });
}

function scalarStrings(node: ConfigNode | undefined): Set<string> {
  if (node?.kind !== 'array') return new Set();
  return new Set(node.items.flatMap((i) => (i.kind === 'scalar' && i.value !== null ? [String(i.value)] : [])));
}

function keysOf(node: ConfigNode | undefined): Set<string> {
  return new Set(node?.kind === 'object' ? node.entries.map((e) => e.key) : []);
}

export function completeConfig(text: string, format: ConfigFormat, position: Position): Completions {
  const lines = new LineIndex(text);
  const offset = lines.offsetAt(position);
  const root = parseConfigText(text, format).root;
  if (format === 'json') {
    const loc = getLocation(text, offset);
    const prev = loc.previousNode;
    const span: Span =
      prev && prev.type !== 'object' && prev.type !== 'array'
        ? [prev.offset, prev.offset + prev.length]
        : [offset, offset];
    const range = lines.range(span);
    if (loc.isAtPropertyKey) {
      const parent = loc.path.slice(0, -1);
      const present = keysOf(nodeAt(root, parent));
      const typed = loc.path[loc.path.length - 1];
      if (typeof typed === 'string') present.delete(typed);
      return { items: keyItems(schemaAt(parent), format, present, 0), range };
    }
    const path = loc.path;
    const last = path[path.length - 1];
    const taken = typeof last === 'number' ? scalarStrings(nodeAt(root, path.slice(0, -1))) : new Set<string>();
    if (prev?.type === 'string') taken.delete(String(prev.value));
    for (const m of otherTasksMetrics(root, path)) taken.add(m);
    return { items: valueItems(schemaAt(path), format, taken), range, valuePath: [...path] };
  }
  const ctx = yamlContext(text, lines, offset);
  const range = lines.range(ctx.token);
  if (ctx.kind === 'key') {
    const present = keysOf(nodeAt(root, ctx.parent));
    for (const k of ctx.siblings) present.add(k);
    return { items: keyItems(schemaAt(ctx.parent), format, present, ctx.indent), range };
  }
  const taken = ctx.item ? scalarStrings(nodeAt(root, ctx.parent)) : new Set<string>();
  taken.delete(text.slice(ctx.token[0], ctx.token[1]));
  for (const m of otherTasksMetrics(root, ctx.parent)) taken.add(m);
  const valuePath = ctx.item ? [...ctx.parent, 0] : ctx.parent;
  return { items: valueItems(schemaAt(valuePath), format, taken), range, valuePath };
}

/** Where a metric is being chosen, the metrics the config's task doesn't compute (none if no task yet). */
function otherTasksMetrics(root: ConfigNode | undefined, path: readonly (string | number)[]): string[] {
  const where = path.filter((p) => typeof p === 'string').join('.');
  const task = nodeAt(root, ['task']);
  if ((where !== 'eval.metrics' && where !== 'eval.early_stopping.metric') || task?.kind !== 'scalar') return [];
  const name = task.value;
  if (typeof name !== 'string' || !Object.values(METRIC_TASKS).some((tasks) => tasks.includes(name))) return [];
  return Object.keys(METRIC_TASKS).filter((m) => !METRIC_TASKS[m]?.includes(name));
}

interface YamlContext {
  kind: 'key' | 'value';
  /** For a key: the path of the mapping it goes into. For a value: the path of the key (or list) it belongs to. */
  parent: string[];
  /** A list item: the value goes into the list at `parent`. */
  item: boolean;
  indent: number;
  /** The word under the cursor, which a completion replaces. */
  token: Span;
  /** Keys already on the lines of the same mapping. */
  siblings: string[];
}

const KEY_LINE = /^(\s*)(-\s+)?([^\s#:'"{}[\],][^#:]*?|"[^"]*"|'[^']*')\s*:(\s|$)/;
const DELIMITERS = ' \t,[]{}:#';

function unquote(key: string): string {
  return /^(["']).*\1$/.test(key) ? key.slice(1, -1) : key;
}

function yamlContext(text: string, lines: LineIndex, offset: number): YamlContext {
  const { line } = lines.positionAt(offset);
  const start = lines.lineStart(line);
  const lineText = text.slice(start, lines.lineEnd(line));
  const col = offset - start;
  let t0 = col;
  let t1 = col;
  while (t0 > 0 && !DELIMITERS.includes(lineText[t0 - 1] ?? ' ')) t0--;
  while (t1 < lineText.length && !DELIMITERS.includes(lineText[t1] ?? ' ')) t1++;
  const token: Span = [start + t0, start + t1];

  const before = lineText.slice(0, col);
  const dash = /^(\s*)-\s+/.exec(before);
  const indent = /^\s*/.exec(before.trim() === '' ? before : lineText)?.[0].length ?? 0;
  const keyMatch = KEY_LINE.exec(before);
  const parents = parentPath(text, lines, line, dash ? (dash[1]?.length ?? 0) : indent, dash !== null);
  const siblings = siblingKeys(text, lines, line, indent);
  if (keyMatch) {
    const key = unquote(keyMatch[3]?.trim() ?? '');
    const rest = before.slice(keyMatch[0].length);
    const path = [...parents, key];
    // Inside a flow collection on the same line: `metrics: [acc` or `clean: { normalize: NF`.
    const open = Math.max(rest.lastIndexOf('['), rest.lastIndexOf('{'));
    if (open >= 0 && rest.lastIndexOf(']') < open && rest.lastIndexOf('}') < open) {
      const inner = rest.slice(open + 1);
      if (rest[open] === '[') return { kind: 'value', parent: path, item: true, indent, token, siblings: [] };
      const segment = inner.slice(inner.lastIndexOf(',') + 1);
      const colon = segment.indexOf(':');
      if (colon < 0) return { kind: 'key', parent: path, item: false, indent, token, siblings: [] };
      return {
        kind: 'value',
        parent: [...path, segment.slice(0, colon).trim()],
        item: false,
        indent,
        token,
        siblings: [],
      };
    }
    return { kind: 'value', parent: path, item: false, indent, token, siblings: [] };
  }
  if (dash) return { kind: 'value', parent: parents, item: true, indent, token, siblings: [] };
  return { kind: 'key', parent: parents, item: false, indent, token, siblings };
}

/** Keys of the mappings that enclose a line with the given indentation, found by walking up. */
function parentPath(text: string, lines: LineIndex, line: number, indent: number, isItem: boolean): string[] {
  const path: string[] = [];
  let limit = indent;
  // A list item may sit at its key's own indentation (`metrics:\n- f1`).
  let allowEqual = isItem;
  for (let l = line - 1; l >= 0 && (limit > 0 || allowEqual); l--) {
    const s = text.slice(lines.lineStart(l), lines.lineEnd(l));
    if (s.trim() === '' || s.trim().startsWith('#')) continue;
    const ind = /^\s*/.exec(s)?.[0].length ?? 0;
    if (ind > limit) continue;
    const m = KEY_LINE.exec(s);
    // Only `key:` with nothing after it (but a comment) opens a nested block.
    const opens = m !== null && !m[2] && s.slice(m[0].length).replace(/#.*$/, '').trim() === '';
    if (ind === limit && !(allowEqual && opens)) continue;
    if (!opens) break;
    path.unshift(unquote(m?.[3]?.trim() ?? ''));
    limit = ind;
    allowEqual = false;
  }
  return path;
}

/** Keys at the same indentation in the same block as a line, above and below it. */
function siblingKeys(text: string, lines: LineIndex, line: number, indent: number): string[] {
  const keys: string[] = [];
  for (const step of [-1, 1]) {
    for (let l = line + step; l >= 0 && l < lines.lineCount; l += step) {
      const s = text.slice(lines.lineStart(l), lines.lineEnd(l));
      if (s.trim() === '' || s.trim().startsWith('#')) continue;
      const ind = /^\s*/.exec(s)?.[0].length ?? 0;
      if (ind < indent) break;
      const m = ind === indent ? KEY_LINE.exec(s) : null;
      if (m && !m[2]) keys.push(unquote(m[3]?.trim() ?? ''));
    }
  }
  return keys;
}

function hoverText(path: SchemaPath, s: JsonSchema, value?: unknown): string {
  const name = path.filter((p) => typeof p === 'string').join('.');
  const dflt = s.default === undefined ? '' : `, default \`${show(s.default)}\``;
  let md = `**${name}**: \`${baseType(s)}\`${dflt}\n\n${s.description ?? ''}`;
  const values = enumValues(s.type === 'array' && s.items ? s.items : s).filter((e) => typeof e.value !== 'boolean');
  if (values.length > 0) {
    const list = values.map((e) => {
      const v = e.value === value ? `**\`${String(e.value)}\`**` : `\`${String(e.value)}\``;
      return `- ${v}${e.doc ? `: ${e.doc}` : ''}`;
    });
    md += `\n\n${list.join('\n')}`;
  }
  return md.trim();
}

/** The documentation of the key (or enum value) at a position. */
export function hoverConfig(text: string, format: ConfigFormat, position: Position): Hover | undefined {
  const parsed = parseConfigText(text, format);
  const offset = parsed.lines.offsetAt(position);
  const inside = (span: Span) => span[0] <= offset && offset <= span[1] && span[0] < span[1];
  const visit = (node: ConfigNode | undefined, path: SchemaPath): Hover | undefined => {
    if (node?.kind === 'array') {
      for (let i = 0; i < node.items.length; i++) {
        const item = node.items[i];
        const s = schemaAt([...path, i]);
        if (item?.kind === 'scalar' && inside(item.span) && s)
          return { contents: hoverText(path, s, item.value), range: parsed.lines.range(item.span) };
        const found = visit(item, [...path, i]);
        if (found) return found;
      }
    }
    if (node?.kind !== 'object') return undefined;
    for (const e of node.entries) {
      const p = [...path, e.key];
      const s = schemaAt(p);
      if (s && inside(e.keySpan)) return { contents: hoverText(p, s), range: parsed.lines.range(e.keySpan) };
      if (s && e.value.kind === 'scalar' && inside(e.value.span))
        return { contents: hoverText(p, s, e.value.value), range: parsed.lines.range(e.value.span) };
      const found = visit(e.value, p);
      if (found) return found;
    }
    return undefined;
  };
  const found = visit(parsed.root, []);
  if (found || format === 'json') return found;
  // Half-typed YAML: fall back to the key on the cursor's line.
  const ctx = yamlContext(text, parsed.lines, offset);
  const path = ctx.kind === 'key' ? [...ctx.parent, text.slice(ctx.token[0], ctx.token[1])] : ctx.parent;
  const s = schemaAt(path);
  return s ? { contents: hoverText(path, s), range: parsed.lines.range(ctx.token) } : undefined;
}
