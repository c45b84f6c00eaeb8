import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LineIndex, type Position } from '../../src/shared/config-tree.js';
import { MAX_CONFIG_BYTES } from '../../src/shared/limits.js';
import { CONFIG_FIXTURES } from './config-fixtures.js';

export const ROOT = dirname(dirname(__dirname));

export function fixture(name: string): string {
  const text = CONFIG_FIXTURES[name];
  if (text === undefined) throw new Error(`no config fixture ${name}`);
  return text;
}

/** Applies LSP-style edits to a text (the extension's own function). */
export { applyTextEdits as applyEdits } from '../../src/shared/config-tree.js';

/** A range written compactly in expectations: [startLine, startChar, endLine, endChar]. */
export function r(sl: number, sc: number, el: number, ec: number): { start: Position; end: Position } {
  return { start: { line: sl, character: sc }, end: { line: el, character: ec } };
}

/** The text with `|` removed and the position where it was. */
export function cursor(marked: string): { text: string; position: Position } {
  const i = marked.indexOf('|');
  const text = marked.slice(0, i) + marked.slice(i + 1);
  return { text, position: new LineIndex(text).positionAt(i) };
}

/** The start of a config with its required keys. */
export const CONFIG_HEAD = 'model: m\ntask: text-classification\ndata:\n  train: t.jsonl\n';

/** `a: &a [x, x, ...]`, `b: &b [*a, *a, ...]`, ...: `width ** levels` values once expanded. */
export function aliasBomb(levels: number, width: number): string {
  const names = 'abcdefghijklmnop';
  let text = CONFIG_HEAD;
  for (let i = 0; i < levels; i++) {
    const item = i === 0 ? 'x' : `*${names[i - 1]}`;
    text += `${names[i]}: &${names[i]} [${Array(width).fill(item).join(', ')}]\n`;
  }
  return text;
}

/**
 * `text` followed by as many `line(i)` as fit within the config size limit: the largest config the
 * validator accepts, for what it costs at that size (e.g. `n${i}: [[[...]]]`, seconds of parsing).
 */
export function fillToLimit(text: string, line: (i: number) => string): string {
  let out = text;
  let bytes = Buffer.byteLength(out);
  for (let i = 0; ; i++) {
    const next = line(i);
    const size = Buffer.byteLength(next);
    if (bytes + size > MAX_CONFIG_BYTES) return out;
    out += next;
    bytes += size;
  }
}

/** Writes `text` to `rel` under `dir`, creating the folders on the way (workspace fixtures). */
export function writeUnder(dir: string, rel: string, text: string): void {
  const path = join(dir, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
