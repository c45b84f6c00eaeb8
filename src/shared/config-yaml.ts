import {
  Composer,
  type CST,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  Parser,
  visit,
  YAMLParseError,
  type Node as YamlNode,
} from 'yaml';
import {
  type ConfigNode,
  type Diagnostic,
  type LineIndex,
  type ParsedConfig,
  parseDiagnostic,
  type Span,
  withFlowRemoval,
} from './config-nodes.js';
import { MAX_ALIAS_VALUES, MAX_CONFIG_DEPTH } from './limits.js';

/**
 * YAML into the config tree, with bounded work whatever the text (the validator runs in the
 * extension host). The text is first parsed to the `yaml` library's CST, which it does without
 * recursion, and refused when it nests deeper than MAX_CONFIG_DEPTH: composing recurses per level.
 * The composed document is then walked once, in document order, keeping an anchor table: an alias
 * is looked up there (the library's Alias.resolve walks the whole document per alias) and shares
 * the anchored value's tree instead of copying it, and the values aliases add are counted, so a
 * "billion laughs" file stops at MAX_ALIAS_VALUES with an error on the alias where it was hit.
 */
export type Path = (string | number)[];

/** `data.clean`, `eval.metrics[2]`: a path as the user reads it. */
export function pathText(path: readonly (string | number)[]): string {
  let out = '';
  for (const step of path) out += typeof step === 'number' ? `[${step}]` : out === '' ? step : `.${step}`;
  return out === '' ? 'the top level' : out;
}

export function parseYaml(text: string, lines: LineIndex): ParsedConfig {
  const tokens = [...new Parser().parse(text)];
  const deep = tooDeep(tokens);
  if (deep) {
    const message = `This value is nested more than ${MAX_CONFIG_DEPTH} levels deep (at ${pathText(deep.path)}); a config nests 3 or 4.`;
    const span: Span = [deep.offset, Math.min(deep.offset + 1, text.length)];
    return {
      format: 'yaml',
      text,
      lines,
      root: undefined,
      syntax: [parseDiagnostic(lines, 'error', message, span, 'too-deep', deep.path)],
    };
  }
  // What parseDocument does, on the tokens already parsed. Duplicate keys are reported by the
  // validator, for both formats alike.
  let doc: Document.Parsed | undefined;
  for (const next of new Composer({ uniqueKeys: false }).compose(tokens, true, text.length)) {
    if (!doc) doc = next;
    else {
      doc.errors.push(
        new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents'),
      );
      break;
    }
  }
  if (!doc) return { format: 'yaml', text, lines, root: undefined, syntax: [] };
  const sentence = (m: string) => (m.endsWith('.') ? m : `${m}.`);
  const quotes = new QuotedScalars(doc, text);
  const syntax: Diagnostic[] = [
    ...doc.errors.map((e) => {
      const quote = e.code === 'MISSING_CHAR' ? quotes.endingAt(e.pos[0]) : undefined;
      if (quote) return parseDiagnostic(lines, 'error', 'This string has no closing quote.', quote);
      return parseDiagnostic(lines, 'error', sentence(e.message), e.pos);
    }),
    ...doc.warnings.map((e) => parseDiagnostic(lines, 'warning', sentence(e.message), e.pos)),
  ];
  const reader = new TreeReader(text, lines);
  const root = doc.contents === null ? undefined : reader.read(doc.contents, [], 0).node;
  return { format: 'yaml', text, lines, root, syntax: [...syntax, ...reader.diagnostics] };
}

interface Pending {
  token: CST.Token;
  /** Collections around the token. */
  depth: number;
  path: Path;
}

/** The first collection (in document order) nested deeper than MAX_CONFIG_DEPTH, walked without recursion. */
function tooDeep(tokens: readonly CST.Token[]): { offset: number; path: Path } | undefined {
  const stack: Pending[] = [...tokens].reverse().map((token) => ({ token, depth: 0, path: [] }));
  for (let top = stack.pop(); top; top = stack.pop()) {
    const { token, depth, path } = top;
    if (token.type === 'document') {
      if (token.value) stack.push({ token: token.value, depth, path });
      continue;
    }
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection') continue;
    if (depth + 1 > MAX_CONFIG_DEPTH) return { offset: token.offset, path };
    const mapping = token.type === 'block-map' || (token.type === 'flow-collection' && token.start.source === '{');
    for (let i = token.items.length - 1; i >= 0; i--) {
      const item = token.items[i] as CST.CollectionItem;
      const name = mapping && item.key?.type === 'scalar' ? item.key.source : i;
      if (item.value) stack.push({ token: item.value, depth: depth + 1, path: [...path, name] });
      if (item.key) stack.push({ token: item.key, depth: depth + 1, path: [...path, name] });
    }
  }
  return undefined;
}

/**
 * An unclosed quote is reported at the end of the file, where the string ends; the quote that
 * opens it, up to the end of its line, is where the user has to look. The quoted scalars are
 * indexed once, on the first such error.
 */
class QuotedScalars {
  private byEnd: Map<number, Span> | undefined;

  constructor(
    private readonly doc: Document,
    private readonly text: string,
  ) {}

  endingAt(offset: number): Span | undefined {
    if (!this.byEnd) {
      const byEnd = new Map<number, Span>();
      visit(this.doc, {
        Scalar: (_, node) => {
          const r = node.range;
          if (!r || (node.type !== 'QUOTE_DOUBLE' && node.type !== 'QUOTE_SINGLE') || byEnd.has(r[1])) return;
          const eol = this.text.slice(r[0]).search(/\r?\n/);
          byEnd.set(r[1], [r[0], eol < 0 ? this.text.length : r[0] + eol]);
        },
      });
      this.byEnd = byEnd;
    }
    return this.byEnd.get(offset);
  }
}

/** A subtree with what it costs: values in it (counting each alias use in full) and collection levels. */
interface Built {
  node: ConfigNode;
  size: number;
  height: number;
}

/** The anchor table entry of a value still being read: an alias to it is inside it. */
const OPEN = Symbol('open');

class TreeReader {
  readonly diagnostics: Diagnostic[] = [];
  private readonly anchors = new Map<string, Built | { [OPEN]: true }>();
  /** Values added by aliases so far. */
  private aliasValues = 0;
  private aliasLimitHit = false;

  constructor(
    private readonly text: string,
    private readonly lines: LineIndex,
  ) {}

  /** A node at `depth` collections below the root; its anchor, if any, is set before its children are read. */
  read(node: YamlNode, path: Path, depth: number): Built {
    if (isAlias(node)) return this.alias(node.source, yamlSpan(node), path, depth);
    const anchor = node.anchor || undefined;
    const mark = { [OPEN]: true as const };
    if (anchor !== undefined) this.anchors.set(anchor, mark);
    const built = this.value(node, path, depth);
    // Unless an anchor of the same name inside redefined it: the last definition wins, as in the library.
    if (anchor !== undefined && this.anchors.get(anchor) === mark) this.anchors.set(anchor, built);
    return built;
  }

  private alias(name: string, span: Span, path: Path, depth: number): Built {
    const nothing: Built = { node: { kind: 'scalar', span, value: null }, size: 1, height: 0 };
    const target = this.anchors.get(name);
    const fail = (message: string, code: string) => {
      this.diagnostics.push(parseDiagnostic(this.lines, 'error', message, span, code, path));
      return nothing;
    };
    if (target === undefined) return fail(`There is no anchor &${name} before this alias *${name}.`, 'alias-unknown');
    if (OPEN in target) return fail(`The alias *${name} is inside the value &${name} it refers to.`, 'alias-cycle');
    if (this.aliasLimitHit) return nothing;
    if (this.aliasValues + target.size > MAX_ALIAS_VALUES) {
      // Once: every later alias would say the same.
      this.aliasLimitHit = true;
      return fail(
        `The aliases of this file expand to more than ${MAX_ALIAS_VALUES} values (reached here, *${name} at ${pathText(path)}): write the values out instead.`,
        'alias-limit',
      );
    }
    if (depth + target.height > MAX_CONFIG_DEPTH)
      return fail(`The alias *${name} nests ${pathText(path)} more than ${MAX_CONFIG_DEPTH} levels deep.`, 'too-deep');
    this.aliasValues += target.size;
    // The anchored tree is shared, not copied: only its top takes the alias's place in the text.
    return { ...target, node: { ...target.node, span } };
  }

  private value(node: YamlNode, path: Path, depth: number): Built {
    const span = yamlSpan(node);
    if (isScalar(node)) {
      const v = node.value;
      const value =
        v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
      return { node: { kind: 'scalar', span, value }, size: 1, height: 0 };
    }
    let size = 1;
    let height = 0;
    const add = (b: Built) => {
      size += b.size;
      height = Math.max(height, b.height);
      return b.node;
    };
    if (isSeq(node)) {
      const items = node.items.map((item, i) =>
        item && typeof item === 'object' && 'range' in item
          ? add(this.read(item as YamlNode, [...path, i], depth + 1))
          : ({ kind: 'scalar', span, value: null } as const),
      );
      return { node: { kind: 'array', span, items }, size, height: height + 1 };
    }
    if (isMap(node)) {
      const pairs = node.items.map((pair) => {
        const keyNode = pair.key as YamlNode | null;
        const keySpan: Span = keyNode?.range ? [keyNode.range[0], keyNode.range[1]] : [span[0], span[0]];
        const key = keyNode ? this.key(keyNode, keySpan, path, depth) : '';
        const valueNode = pair.value as YamlNode | null;
        // `key:` with nothing after it is null; it is placed right after the key's colon.
        const value: ConfigNode = valueNode
          ? add(this.read(valueNode, [...path, key], depth + 1))
          : { kind: 'scalar', span: [keySpan[1], keySpan[1]], value: null };
        return { key, keySpan, value };
      });
      const entries = node.flow
        ? withFlowRemoval(pairs)
        : pairs.map((p) => ({ ...p, removeSpan: blockRemoval(p, this.text, this.lines) }));
      return { node: { kind: 'object', span, entries }, size, height: height + 1 };
    }
    return { node: { kind: 'scalar', span, value: null }, size: 1, height: 0 };
  }

  /** A mapping key as text; read like a value first, so anchors on keys (and in complex keys) are known. */
  private key(keyNode: YamlNode, keySpan: Span, path: Path, depth: number): string {
    const k = this.read(keyNode, [...path, '?'], depth + 1).node;
    if (k.kind === 'scalar' && (isScalar(keyNode) || isAlias(keyNode))) return String(k.value ?? '');
    return this.text.slice(keySpan[0], keySpan[1]);
  }
}

function yamlSpan(node: YamlNode): Span {
  const r = node.range ?? [0, 0, 0];
  return [r[0], r[1]];
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
