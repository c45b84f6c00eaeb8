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

/** A diagnostic of the parse itself (syntax, or a bound of config-yaml.ts hit), on the whole file's path unless given. */
export function parseDiagnostic(
  lines: LineIndex,
  severity: Severity,
  message: string,
  span: Span,
  code = 'syntax',
  path: (string | number)[] = [],
): Diagnostic {
  return { severity, message, code, path, range: lines.range(span) };
}

/** In flow mappings and JSON objects an entry takes one comma with it: the next one, else the previous. */
export function withFlowRemoval(pairs: { key: string; keySpan: Span; value: ConfigNode }[]): Entry[] {
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

/** LSP-style edits applied to a text, last first so earlier offsets stay valid. */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const lines = new LineIndex(text);
  const spans = edits
    .map((e) => ({ start: lines.offsetAt(e.range.start), end: lines.offsetAt(e.range.end), text: e.newText }))
    .sort((a, b) => b.start - a.start);
  let out = text;
  for (const s of spans) out = out.slice(0, s.start) + s.text + out.slice(s.end);
  return out;
}
