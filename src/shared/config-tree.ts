import {
  type Node as JsonNode,
  type ParseError as JsonParseError,
  parseTree as parseJsonTree,
  printParseErrorCode,
} from 'jsonc-parser';
import { type Document, isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Node as YamlNode } from 'yaml';

/**
 * The config file as a small format-neutral tree with source offsets: YAML and JSON are both read
 * into it, so validation, quick fixes, completion and hover are written once. Positions follow the
 * Language Server Protocol (0-based line, character in UTF-16 code units, which is what JavaScript
 * string indices count), so the extension passes them to VS Code unchanged.
 */
export type ConfigFormat = 'yaml' | 'json';

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface TextEdit {
  range: Range;
  newText: string;
}

export interface Fix {
  title: string;
  edits: TextEdit[];
}

export type Severity = 'error' | 'warning' | 'info' | 'hint';

export interface Diagnostic {
  severity: Severity;
  message: string;
  code: string;
  /** Keys and array indices from the root to the offending value; [] for the whole file. */
  path: (string | number)[];
  range: Range;
  fixes?: Fix[];
}

/** [start, end) offsets into the text. */
export type Span = readonly [number, number];

export interface ScalarNode {
  kind: 'scalar';
  span: Span;
  value: string | number | boolean | null;
}

export interface ArrayNode {
  kind: 'array';
  span: Span;
  items: ConfigNode[];
}

export interface Entry {
  key: string;
  keySpan: Span;
  value: ConfigNode;
  /** What to delete to remove the whole entry, separators and line included. */
  removeSpan: Span;
}

export interface ObjectNode {
  kind: 'object';
  span: Span;
  entries: Entry[];
}

export type ConfigNode = ScalarNode | ArrayNode | ObjectNode;

export interface ParsedConfig {
  format: ConfigFormat;
  text: string;
  lines: LineIndex;
  /** Undefined for an empty document. */
  root: ConfigNode | undefined;
  /** Syntax errors and warnings of the parser. */
  syntax: Diagnostic[];
}

/** Offset <-> position conversion for one text. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(private readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      // \r\n counts once; a lone \r ends a line too, as in the LSP.
      if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) this.starts.push(i + 1);
    }
  }

  get lineCount(): number {
    return this.starts.length;
  }

  lineStart(line: number): number {
    return this.starts[Math.max(0, Math.min(line, this.starts.length - 1))] ?? 0;
  }

  /** Offset just past the line's content, before its line break. */
  lineEnd(line: number): number {
    if (line + 1 >= this.starts.length) return this.text.length;
    let end = this.lineStart(line + 1) - 1;
    if (end > 0 && this.text[end] === '\n' && this.text[end - 1] === '\r') end--;
    return end;
  }

  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - (this.starts[lo] ?? 0) };
  }

  offsetAt(p: Position): number {
    if (p.line >= this.starts.length) return this.text.length;
    return Math.min(this.lineStart(p.line) + p.character, this.lineEnd(p.line));
  }

  range(span: Span): Range {
    return { start: this.positionAt(span[0]), end: this.positionAt(span[1]) };
  }
}

/** The format a config file name implies: JSON for `.json`, YAML otherwise. */
export function formatOf(fileName: string): ConfigFormat {
  return /\.jsonc?$/i.test(fileName) ? 'json' : 'yaml';
}

export function parseConfigText(text: string, format: ConfigFormat): ParsedConfig {
  return format === 'json' ? parseJson(text) : parseYaml(text);
}

function syntaxDiagnostic(lines: LineIndex, severity: Severity, message: string, span: Span): Diagnostic {
  return { severity, message, code: 'syntax', path: [], range: lines.range(span) };
}

function parseYaml(text: string): ParsedConfig {
  const lines = new LineIndex(text);
  // Duplicate keys are reported by the validator, for both formats alike.
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  const sentence = (m: string) => (m.endsWith('.') ? m : `${m}.`);
  const syntax: Diagnostic[] = [
    ...doc.errors.map((e) => {
      const quote = unclosedQuote(doc, text, e);
      if (quote) return syntaxDiagnostic(lines, 'error', 'This string has no closing quote.', quote);
      return syntaxDiagnostic(lines, 'error', sentence(e.message), e.pos);
    }),
    ...doc.warnings.map((e) => syntaxDiagnostic(lines, 'warning', sentence(e.message), e.pos)),
  ];
  const root = doc.contents === null ? undefined : fromYaml(doc.contents, doc, text, lines, 0);
  return { format: 'yaml', text, lines, root, syntax };
}

/**
 * An unclosed quote is reported at the end of the file, where the string ends; the quote that
 * opens it, up to the end of its line, is where the user has to look.
 */
function unclosedQuote(doc: Document, text: string, error: { code: string; pos: [number, number] }): Span | undefined {
  if (error.code !== 'MISSING_CHAR') return undefined;
  let found: Span | undefined;
  visit(doc, {
    Scalar(_, node) {
      const r = node.range;
      if (!r || found || (node.type !== 'QUOTE_DOUBLE' && node.type !== 'QUOTE_SINGLE') || r[1] !== error.pos[0])
        return;
      const eol = text.slice(r[0]).search(/\r?\n/);
      found = [r[0], eol < 0 ? text.length : r[0] + eol];
    },
  });
  return found;
}

function yamlSpan(node: YamlNode): Span {
  const r = node.range ?? [0, 0, 0];
  return [r[0], r[1]];
}

function fromYaml(node: YamlNode, doc: Document, text: string, lines: LineIndex, depth: number): ConfigNode {
  const span = yamlSpan(node);
  // Aliases are followed (bounded, since an alias may point at its own ancestor).
  if (isAlias(node)) {
    const target = depth < 32 ? node.resolve(doc) : undefined;
    return target ? { ...fromYaml(target, doc, text, lines, depth + 1), span } : { kind: 'scalar', span, value: null };
  }
  if (isScalar(node)) {
    const v = node.value;
    const value =
      v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
    return { kind: 'scalar', span, value };
  }
  if (isSeq(node)) {
    const items = node.items.map((item) =>
      item && typeof item === 'object' && 'range' in item
        ? fromYaml(item as YamlNode, doc, text, lines, depth + 1)
        : ({ kind: 'scalar', span, value: null } as const),
    );
    return { kind: 'array', span, items };
  }
  if (isMap(node)) {
    const pairs = node.items.map((pair) => {
      const keyNode = pair.key as YamlNode | null;
      const keySpan: Span = keyNode?.range ? [keyNode.range[0], keyNode.range[1]] : [span[0], span[0]];
      const key = keyNode && isScalar(keyNode) ? String(keyNode.value ?? '') : text.slice(keySpan[0], keySpan[1]);
      const valueNode = pair.value as YamlNode | null;
      // `key:` with nothing after it is null; it is placed right after the key's colon.
      const value: ConfigNode = valueNode
        ? fromYaml(valueNode, doc, text, lines, depth + 1)
        : { kind: 'scalar', span: [keySpan[1], keySpan[1]], value: null };
      return { key, keySpan, value };
    });
    const entries = node.flow
      ? withFlowRemoval(pairs)
      : pairs.map((p) => ({ ...p, removeSpan: blockRemoval(p, text, lines) }));
    return { kind: 'object', span, entries };
  }
  return { kind: 'scalar', span, value: null };
}

/** In a block mapping an entry owns whole lines: from its key's line to its value's last line. */
function blockRemoval(p: { keySpan: Span; value: ConfigNode }, text: string, lines: LineIndex): Span {
  const keyLine = lines.positionAt(p.keySpan[0]).line;
  const lineStart = lines.lineStart(keyLine);
  // The key shares its line with something else (e.g. `- key: v`): take just the entry.
  if (text.slice(lineStart, p.keySpan[0]).trim() !== '') return [p.keySpan[0], p.value.span[1]];
  const last = Math.max(p.keySpan[1], p.value.span[1]) - 1;
  const lastLine = lines.positionAt(Math.max(last, p.keySpan[0])).line;
  const end = lastLine + 1 < lines.lineCount ? lines.lineStart(lastLine + 1) : text.length;
  return [lineStart, end];
}

/** In flow mappings and JSON objects an entry takes one comma with it: the next one, else the previous. */
function withFlowRemoval(pairs: { key: string; keySpan: Span; value: ConfigNode }[]): Entry[] {
  return pairs.map((p, i) => {
    const next = pairs[i + 1];
    const prev = pairs[i - 1];
    const end = Math.max(p.keySpan[1], p.value.span[1]);
    const removeSpan: Span = next
      ? [p.keySpan[0], next.keySpan[0]]
      : prev
        ? [Math.max(prev.keySpan[1], prev.value.span[1]), end]
        : [p.keySpan[0], end];
    return { ...p, removeSpan };
  });
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

function parseJson(text: string): ParsedConfig {
  const lines = new LineIndex(text);
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
    syntax.push(syntaxDiagnostic(lines, 'error', `${JSON_ERRORS[name] ?? name}.`, [e.offset, e.offset + e.length]));
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
    const d = editDistance(w, norm(c));
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
