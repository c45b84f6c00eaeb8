import { applyEdits, type FormattingOptions, modify } from 'jsonc-parser';
import { parseDocument, stringify } from 'yaml';
import {
  type ConfigFormat,
  type ConfigNode,
  type Entry,
  lastEntry,
  nodeAt,
  type ObjectNode,
  type ParsedConfig,
  parseConfigText,
  type TextEdit,
} from '../../shared/config-tree.js';
import type { ConfigPath, JsonValue } from '../../shared/messages.js';

/**
 * Applies one form edit (set or remove the value at a path) to the config file's text, changing
 * only the text of that value: every other byte, comments, their alignment, key order, number
 * spelling (`2.0e-5`) and flow or block style, stays as the user wrote it. The result is a list of
 * text edits the host turns into one undoable WorkspaceEdit.
 *
 * JSON goes through jsonc-parser's `modify`, which already works that way. YAML is edited on the
 * spans of the shared config tree: a value is replaced in place, a new key is inserted as a line
 * after the last key of its mapping (or into a flow mapping), a removed key takes its lines with
 * it, and a mapping left empty by a removal goes too. The one case left to the yaml package's
 * Document API (which re-prints the whole file) is an edit inside a shape this code does not
 * write, such as a key under a list item; the edit is then the minimal changed region.
 */
export class ConfigEditError extends Error {}

export function configEdit(
  text: string,
  format: ConfigFormat,
  path: ConfigPath,
  value: JsonValue | undefined,
): TextEdit[] {
  if (path.length === 0) throw new ConfigEditError('cannot replace the whole config from the form');
  const parsed = parseConfigText(text, format);
  // An empty file is a fine start for a form; any other syntax error would make the edit a guess.
  if (text.trim() !== '' && parsed.syntax.some((d) => d.severity === 'error')) {
    throw new ConfigEditError(`${parsed.syntax.find((d) => d.severity === 'error')?.message} Fix the file first.`);
  }
  const spans = format === 'json' ? jsonEdit(parsed, path, value) : yamlEdit(parsed, path, value);
  return spans.map(([start, end, newText]) => ({ range: parsed.lines.range([start, end]), newText }));
}

type OffsetEdit = [start: number, end: number, newText: string];

function jsonEdit(parsed: ParsedConfig, path: ConfigPath, value: JsonValue | undefined): OffsetEdit[] {
  const { text } = parsed;
  const unit = /^([ \t]+)\S/m.exec(text)?.[1] ?? '  ';
  const formattingOptions: FormattingOptions = {
    insertSpaces: !unit.startsWith('\t'),
    tabSize: unit.startsWith('\t') ? 1 : unit.length,
    eol: eolOf(text),
  };
  if (value !== undefined && nodeAt(parsed.root, path) === undefined) {
    const inserted = jsonInsert(parsed, path, value, unit);
    if (inserted) return [inserted];
  }
  const target = value === undefined ? prunedPath(parsed.root, path) : path;
  if (text.trim() === '') return [[0, text.length, applyEdits('{}', modify('{}', path, value, { formattingOptions }))]];
  return modify(text, target, value, { formattingOptions }).map((e) => [e.offset, e.offset + e.length, e.content]);
}

/**
 * A new key in a JSON object, laid out like its siblings: on a line of its own in a multi-line
 * object, inline in a one-line one. (jsonc-parser's `modify` would re-format the previous sibling.)
 */
function jsonInsert(parsed: ParsedConfig, path: ConfigPath, value: JsonValue, unit: string): OffsetEdit | undefined {
  const { text } = parsed;
  let depth = path.length - 1;
  while (depth > 0 && nodeAt(parsed.root, path.slice(0, depth)) === undefined) depth--;
  const parent = nodeAt(parsed.root, path.slice(0, depth));
  const rest = path.slice(depth);
  if (parent?.kind !== 'object' || rest.some((k) => typeof k !== 'string')) return undefined;
  const nested = nestValue(rest.slice(1) as string[], value);
  const key = JSON.stringify(rest[0]);
  const eol = eolOf(text);
  const multiLine = text.slice(parent.span[0], parent.span[1]).includes('\n') || parent.entries.length === 0;
  const last = parent.entries[parent.entries.length - 1];
  if (!multiLine && last) {
    const at = last.value.span[1];
    return [at, at, `, ${key}: ${JSON.stringify(nested, null, 1).replace(/\n\s*/g, ' ')}`];
  }
  const lineIndent = (offset: number) =>
    /^[ \t]*/.exec(text.slice(parsed.lines.lineStart(parsed.lines.positionAt(offset).line)))?.[0] ?? '';
  const parentIndent = lineIndent(parent.span[0]);
  const indent = last ? lineIndent(last.keySpan[0]) : parentIndent + unit;
  const body = JSON.stringify(nested, null, unit).replaceAll('\n', `${eol}${indent}`);
  if (!last) return [parent.span[0], parent.span[1], `{${eol}${indent}${key}: ${body}${eol}${parentIndent}}`];
  const at = last.value.span[1];
  return [at, at, `,${eol}${indent}${key}: ${body}`];
}

function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

/** Removing the last key of a mapping removes the mapping's own entry too (up to, not including, the root). */
function prunedPath(root: ConfigNode | undefined, path: ConfigPath): ConfigPath {
  let target = path;
  while (target.length > 1) {
    const parent = nodeAt(root, target.slice(0, -1));
    if (parent?.kind !== 'object' || parent.entries.length !== 1 || typeof target[target.length - 2] !== 'string')
      break;
    target = target.slice(0, -1);
  }
  return target;
}

function yamlEdit(parsed: ParsedConfig, path: ConfigPath, value: JsonValue | undefined): OffsetEdit[] {
  const { text } = parsed;
  if (value === undefined) {
    const target = prunedPath(parsed.root, path);
    const parent = nodeAt(parsed.root, target.slice(0, -1));
    const key = target[target.length - 1];
    if (parent?.kind !== 'object' || typeof key !== 'string') return [];
    const entry = lastEntry(parent, key);
    if (!entry) return [];
    if (target.length === 1 && parent.entries.length === 1) return [[0, text.length, '']];
    return [[entry.removeSpan[0], entry.removeSpan[1], '']];
  }
  const existing = nodeAt(parsed.root, path);
  if (existing) {
    const replaced = replaceValue(parsed, path, existing, value);
    if (replaced) return [keepCommentColumn(text, replaced)];
    return documentFallback(parsed, path, value);
  }
  // The deepest mapping that exists on the path; the rest of the path becomes nested mappings.
  let depth = path.length - 1;
  while (depth > 0 && nodeAt(parsed.root, path.slice(0, depth)) === undefined) depth--;
  const parent = depth === 0 ? parsed.root : nodeAt(parsed.root, path.slice(0, depth));
  const rest = path.slice(depth);
  if (rest.some((k) => typeof k !== 'string')) return documentFallback(parsed, path, value);
  const nested = nestValue(rest.slice(1) as string[], value);
  const key = rest[0] as string;
  if (parent === undefined) {
    if (text.trim() !== '') return documentFallback(parsed, path, value);
    return [[0, text.length, `${blockEntry(key, nested, '', indentUnit(parsed))}\n`]];
  }
  if (parent.kind !== 'object') return documentFallback(parsed, path, value);
  return [insertEntry(parsed, parent, key, nested)];
}

/** Pads or trims the spaces before a trailing `# comment` so it stays in its column. */
function keepCommentColumn(text: string, [start, end, newText]: OffsetEdit): OffsetEdit {
  const gap = /^[ \t]+(?=#)/.exec(text.slice(end, end + 400))?.[0];
  if (gap === undefined || newText.includes('\n') || text.slice(start, end).includes('\n'))
    return [start, end, newText];
  const width = Math.max(1, gap.length + (end - start) - newText.length);
  return [start, end + gap.length, newText + ' '.repeat(width)];
}

function nestValue(keys: string[], value: JsonValue): JsonValue {
  return keys.reduceRight<JsonValue>((inner, k) => ({ [k]: inner }), value);
}

function isFlow(text: string, node: ConfigNode): boolean {
  const c = text[node.span[0]];
  return c === '{' || c === '[';
}

/** Whether the value at a path sits inside a flow collection, where `,[]{}` end a plain scalar. */
function insideFlow(parsed: ParsedConfig, path: ConfigPath): boolean {
  for (let i = 0; i < path.length; i++) {
    const ancestor = i === 0 ? parsed.root : nodeAt(parsed.root, path.slice(0, i));
    if (ancestor && isFlow(parsed.text, ancestor)) return true;
  }
  return false;
}

function replaceValue(
  parsed: ParsedConfig,
  path: ConfigPath,
  node: ConfigNode,
  value: JsonValue,
): OffsetEdit | undefined {
  const { text } = parsed;
  const start = node.span[0];
  let end = node.span[1];
  // A block collection's span runs through its last line break; the replacement keeps that.
  while (end > start && (text[end - 1] === '\n' || text[end - 1] === '\r')) end--;
  const first = text[start];
  // Block scalars (| and >) own the lines after them; re-printing those is the Document API's job.
  if (first === '|' || first === '>' || first === '&' || first === '!') return undefined;
  const flow = insideFlow(parsed, path);
  if (value === null || typeof value !== 'object') {
    if (node.kind !== 'scalar' && !isFlow(text, node)) return undefined;
    return [start, end, scalarText(value, flow)];
  }
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object')) {
    if (node.kind === 'array' && !isFlow(text, node) && node.items.length > 0 && value.length > 0) {
      const indent = parsed.lines.positionAt(start).character;
      return [start, end, value.map((v) => `- ${scalarText(v, false)}`).join(`\n${' '.repeat(indent)}`)];
    }
    if (node.kind !== 'object' || isFlow(text, node)) return [start, end, flowText(value)];
  }
  return undefined;
}

/** A scalar as YAML text on one line; in flow context, strings with flow indicators are quoted. */
export function scalarText(value: string | number | boolean | null, flow: boolean): string {
  if (value === null) return 'null';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '.nan';
    if (!Number.isFinite(value)) return value > 0 ? '.inf' : '-.inf';
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  const plain = stringify(value).trimEnd();
  if (plain.includes('\n') || (flow && /[,[\]{}#]/.test(plain))) return JSON.stringify(value);
  return plain;
}

function indentUnit(parsed: ParsedConfig): number {
  const m = /^( +)[^\s#-]/m.exec(parsed.text);
  return m?.[1]?.length ?? 2;
}

/** `key: value` in block style at an indent; mappings nest on the following lines. */
function blockEntry(key: string, value: JsonValue, indent: string, unit: number): string {
  const k = scalarText(key, false);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const inner = `${indent}${' '.repeat(unit)}`;
    return [`${indent}${k}:`, ...Object.entries(value).map(([kk, vv]) => blockEntry(kk, vv, inner, unit))].join('\n');
  }
  return `${indent}${k}: ${flowText(value)}`;
}

function flowText(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return scalarText(value, true);
  if (Array.isArray(value)) return `[${value.map(flowText).join(', ')}]`;
  return `{ ${Object.entries(value)
    .map(([k, v]) => `${scalarText(k, true)}: ${flowText(v)}`)
    .join(', ')} }`;
}

function insertEntry(parsed: ParsedConfig, parent: ObjectNode, key: string, value: JsonValue): OffsetEdit {
  const { text } = parsed;
  if (isFlow(text, parent)) {
    const entry = `${scalarText(key, true)}: ${flowText(value)}`;
    const last = parent.entries[parent.entries.length - 1];
    if (!last) return [parent.span[0] + 1, parent.span[0] + 1, ` ${entry} `];
    const at = Math.max(last.keySpan[1], last.value.span[1]);
    return [at, at, `, ${entry}`];
  }
  const last = parent.entries[parent.entries.length - 1] as Entry;
  const indent = ' '.repeat(parsed.lines.positionAt(last.keySpan[0]).character);
  const line = blockEntry(key, value, indent, indentUnit(parsed));
  // After the last line of the last entry: its removeSpan ends at the start of the next line.
  const at = last.removeSpan[1];
  const eol = eolOf(text);
  if (at >= text.length && !text.endsWith('\n')) return [text.length, text.length, `${eol}${line}`];
  if (text[at - 1] !== '\n') return [at, at, `${eol}${line}`];
  return [at, at, `${line.replaceAll('\n', eol)}${eol}`];
}

/** The yaml package's Document API, reduced to the smallest changed region of the text. */
function documentFallback(parsed: ParsedConfig, path: ConfigPath, value: JsonValue): OffsetEdit[] {
  const doc = parseDocument(parsed.text);
  doc.setIn(path, value);
  return minimalEdit(parsed.text, doc.toString({ lineWidth: 0 }));
}

export function minimalEdit(before: string, after: string): OffsetEdit[] {
  if (before === after) return [];
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let end = 0;
  while (
    end < before.length - start &&
    end < after.length - start &&
    before[before.length - 1 - end] === after[after.length - 1 - end]
  )
    end++;
  return [[start, before.length - end, after.slice(start, after.length - end)]];
}
