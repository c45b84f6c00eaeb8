import {
  createScanner,
  type Node as JsonNode,
  type ParseError as JsonParseError,
  parseTree as parseJsonTree,
  printParseErrorCode,
  type SyntaxKind,
} from 'jsonc-parser';
import {
  type ConfigFormat,
  type ConfigNode,
  type Diagnostic,
  type Entry,
  LineIndex,
  type ObjectNode,
  type ParsedConfig,
  parseDiagnostic,
  type Span,
  withFlowRemoval,
} from './config-nodes.js';
import { parseYaml } from './config-yaml.js';
import { formatBytes, formatOver, MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH, utf8Length } from './limits.js';

/**
 * The config file as a small format-neutral tree with source offsets (config-nodes.ts): YAML
 * (config-yaml.ts) and JSON are both read into it, so validation, quick fixes, completion and
 * hover are written once. Reading is bounded: a text over MAX_CONFIG_BYTES or nested deeper than
 * MAX_CONFIG_DEPTH is refused with one diagnostic and no tree.
 */
export type {
  ArrayNode,
  ConfigFormat,
  ConfigNode,
  Diagnostic,
  Entry,
  Fix,
  ObjectNode,
  ParsedConfig,
  Position,
  Range,
  ScalarNode,
  Severity,
  Span,
  TextEdit,
} from './config-nodes.js';
export { applyTextEdits, LineIndex } from './config-nodes.js';

/** The format a config file name implies: JSON for `.json`, YAML otherwise. */
export function formatOf(fileName: string): ConfigFormat {
  return /\.jsonc?$/i.test(fileName) ? 'json' : 'yaml';
}

/** The one diagnostic of a config file over MAX_CONFIG_BYTES, which is not parsed (nor, from disk, read). */
export function tooLargeDiagnostic(bytes: number): Diagnostic {
  const message = `The config file is ${formatOver(bytes, MAX_CONFIG_BYTES)}, over the ${formatBytes(MAX_CONFIG_BYTES)} a config may have: it is not read.`;
  const at = { line: 0, character: 0 };
  return { severity: 'error', message, code: 'too-large', path: [], range: { start: at, end: at } };
}

export function parseConfigText(text: string, format: ConfigFormat): ParsedConfig {
  const lines = new LineIndex(text);
  const bytes = utf8Length(text, MAX_CONFIG_BYTES);
  if (bytes > MAX_CONFIG_BYTES) {
    // The exact size is only worth counting once it is known to be over.
    return { format, text, lines, root: undefined, syntax: [tooLargeDiagnostic(utf8Length(text))] };
  }
  return format === 'json' ? parseJson(text, lines) : parseYaml(text, lines);
}

const JSON_ERRORS: Record<string, string> = {
  InvalidSymbol: 'Invalid symbol',
  InvalidNumberFormat: 'Invalid number',
  PropertyNameExpected: 'Expected a property name in double quotes',
  ValueExpected: 'Expected a value',
  ColonExpected: "Expected ':' after the property name",
  CommaExpected: "Expected ','",
  CloseBraceExpected: "Expected '}'",
  CloseBracketExpected: "Expected ']'",
  EndOfFileExpected: 'Expected the end of the file after the top-level value',
  InvalidCommentToken: 'Invalid comment',
  UnexpectedEndOfComment: 'Unterminated comment',
  UnexpectedEndOfString: 'Unterminated string',
  UnexpectedEndOfNumber: 'Unexpected end of number',
  InvalidUnicode: 'Invalid Unicode escape',
  InvalidEscapeCharacter: 'Invalid escape character',
  InvalidCharacter: 'Invalid character in string',
};

/** The offset of the first `[` or `{` nested deeper than MAX_CONFIG_DEPTH (jsonc-parser's tree builder recurses per level). */
// SyntaxKind is a const enum, which isolatedModules can't read: its values, from jsonc-parser's typings.
const OPEN_BRACE = 1 as SyntaxKind;
const CLOSE_BRACE = 2 as SyntaxKind;
const OPEN_BRACKET = 3 as SyntaxKind;
const CLOSE_BRACKET = 4 as SyntaxKind;
const EOF = 17 as SyntaxKind;

function jsonTooDeep(text: string): number | undefined {
  const scanner = createScanner(text, false);
  // Open brackets; a closer that does not match the innermost is not counted as closing anything
  // (the parser skips it), so this never counts fewer levels than the parser recurses into.
  const open: SyntaxKind[] = [];
  for (let kind = scanner.scan(); kind !== EOF; kind = scanner.scan()) {
    if (kind === OPEN_BRACE || kind === OPEN_BRACKET) {
      open.push(kind);
      if (open.length > MAX_CONFIG_DEPTH) return scanner.getTokenOffset();
    } else if (kind === CLOSE_BRACE && open[open.length - 1] === OPEN_BRACE) open.pop();
    else if (kind === CLOSE_BRACKET && open[open.length - 1] === OPEN_BRACKET) open.pop();
  }
  return undefined;
}

function parseJson(text: string, lines: LineIndex): ParsedConfig {
  const deep = jsonTooDeep(text);
  if (deep !== undefined) {
    const message = `This value is nested more than ${MAX_CONFIG_DEPTH} levels deep; a config nests 3 or 4.`;
    const syntax = [parseDiagnostic(lines, 'error', message, [deep, deep + 1], 'too-deep')];
    return { format: 'json', text, lines, root: undefined, syntax };
  }
  const errors: JsonParseError[] = [];
  // Comments and trailing commas are accepted: VS Code edits *.json settings-like files as JSONC.
  const tree = parseJsonTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const syntax: Diagnostic[] = [];
  let last = -1;
  for (const e of errors) {
    // jsonc-parser reports one slip as several errors at the same offset; the first says it best.
    if (e.offset === last) continue;
    last = e.offset;
    const name = printParseErrorCode(e.error);
    syntax.push(parseDiagnostic(lines, 'error', `${JSON_ERRORS[name] ?? name}.`, [e.offset, e.offset + e.length]));
  }
  return { format: 'json', text, lines, root: tree ? fromJson(tree) : undefined, syntax };
}

function fromJson(node: JsonNode): ConfigNode {
  const span: Span = [node.offset, node.offset + node.length];
  const children = node.children ?? [];
  if (node.type === 'object') {
    const pairs = children.flatMap((prop) => {
      const [keyNode, valueNode] = prop.children ?? [];
      if (!keyNode) return [];
      const keySpan: Span = [keyNode.offset, keyNode.offset + keyNode.length];
      const value: ConfigNode = valueNode
        ? fromJson(valueNode)
        : { kind: 'scalar', span: [keySpan[1], keySpan[1]], value: null };
      return [{ key: String(keyNode.value), keySpan, value }];
    });
    return { kind: 'object', span, entries: withFlowRemoval(pairs) };
  }
  if (node.type === 'array') return { kind: 'array', span, items: children.map(fromJson) };
  const v: unknown = node.value;
  const value = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null;
  return { kind: 'scalar', span, value };
}

/** The plain value of a tree, as JSON.parse would give it. Later duplicate keys win, as in JSON.parse. */
export function toValue(node: ConfigNode | undefined): unknown {
  if (!node) return undefined;
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'array') return node.items.map(toValue);
  const out: Record<string, unknown> = {};
  for (const e of node.entries) out[e.key] = toValue(e.value);
  return out;
}

/** The node at a path of keys and indices, or undefined. The last entry wins for duplicate keys. */
export function nodeAt(root: ConfigNode | undefined, path: readonly (string | number)[]): ConfigNode | undefined {
  let node = root;
  for (const step of path) {
    if (!node) return undefined;
    if (typeof step === 'number') node = node.kind === 'array' ? node.items[step] : undefined;
    else node = node.kind === 'object' ? lastEntry(node, step)?.value : undefined;
  }
  return node;
}

/** The entry of a key in the object at a path, or undefined. */
export function entryAt(root: ConfigNode | undefined, path: readonly string[]): Entry | undefined {
  const parent = nodeAt(root, path.slice(0, -1));
  const key = path[path.length - 1];
  return parent?.kind === 'object' && key !== undefined ? lastEntry(parent, key) : undefined;
}

/** The last entry of a key (the one JSON.parse keeps); Array#findLast is ES2023, not in this lib. */
export function lastEntry(node: ObjectNode, key: string): Entry | undefined {
  for (let i = node.entries.length - 1; i >= 0; i--) if (node.entries[i]?.key === key) return node.entries[i];
  return undefined;
}

/**
 * Optimal string alignment distance (Damerau-Levenshtein where a transposed pair is not edited
 * further): `lerning_rate` and `learnign_rate` are both one edit from `learning_rate`.
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const up = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((up[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (up[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}

/** The closest candidate within a few edits (case and `-`/`_` ignored), or undefined. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replaceAll('-', '_');
  const w = norm(word);
  const limit = w.length <= 3 ? 1 : w.length <= 6 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const n = norm(c);
    // The distance is at least the difference in length: a long word is not compared cell by cell.
    if (Math.abs(n.length - w.length) >= bestDistance) continue;
    const d = editDistance(w, n);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
