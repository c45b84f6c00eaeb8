import type { JsonSchema } from '../shared/config-schema.js';
import type { Diagnostic } from '../shared/config-tree.js';
import type { JsonValue } from '../shared/messages.js';

/**
 * The hyperparameter form as data, derived from the config's JSON Schema: sections, fields, the
 * widget each field gets, and how text typed into a field becomes a config value. No DOM, so the
 * mapping is tested in Node; form.ts renders it. A key added to the schema appears in the form
 * without a change here.
 */
export type FieldKind = 'text' | 'number' | 'enum' | 'boolean' | 'multiEnum' | 'list' | 'union';

export interface FieldSpec {
  path: string[];
  label: string;
  kind: FieldKind;
  schema: JsonSchema;
  description: string;
  /** Choices of enum fields (and the named choices of a union such as `epoch`). */
  options: { value: string; description: string }[];
  default: JsonValue | undefined;
  /** What the field shows when empty. */
  placeholder: string;
}

export interface GroupSpec {
  id: string;
  title: string;
  description: string;
  fields: FieldSpec[];
  groups: GroupSpec[];
  /** Shown only while the config's `training.method` has this value. */
  method?: string;
}

/** Sections by top-level key; top-level scalars go to the first one. */
const SECTION_TITLES: Record<string, string> = { data: 'Data', training: 'Training', eval: 'Evaluation' };
/** Keys that belong to one training method: a section of their own, shown with that method. */
const METHOD_SPECIFIC: Record<string, { method: string; title: string }> = {
  'training.lora': { method: 'lora', title: 'Method: LoRA' },
  'training.freeze_layers': { method: 'freeze', title: 'Method: freeze' },
};
/**
 * Keys gathered into a section of their own, after the sections of their parents: the section's
 * id is its owner key's path (where its diagnostics land), and other keys may join it (the
 * unlabeled transfer set only serves distillation).
 */
const OWN_SECTIONS: Record<string, { owner: string; title: string }> = {
  'training.distillation': { owner: 'training.distillation', title: 'Distillation' },
  'data.unlabeled': { owner: 'training.distillation', title: 'Distillation' },
  'data.augment': { owner: 'data.augment', title: 'Data augmentation' },
};
/** Keys that are not hyperparameters. */
const HIDDEN = new Set(['$schema']);

export function formSections(schema: JsonSchema): GroupSpec[] {
  const top: GroupSpec = {
    id: 'model',
    title: 'Model and task',
    description: schema.description ?? '',
    fields: [],
    groups: [],
  };
  const sections: GroupSpec[] = [top];
  const extra: Extra = { methods: [], own: new Map() };
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    if (HIDDEN.has(key)) continue;
    if (sub.type === 'object' && sub.properties) {
      const group = objectGroup([key], sub, SECTION_TITLES[key] ?? titleCase(key), extra);
      sections.push(group);
    } else {
      top.fields.push(fieldSpec([key], sub));
    }
  }
  return [...sections, ...extra.own.values(), ...extra.methods];
}

/** The sections made apart from their parents: per method, and OWN_SECTIONS by owner key. */
interface Extra {
  methods: GroupSpec[];
  own: Map<string, GroupSpec>;
}

function ownSection(extra: Extra, key: string): GroupSpec | undefined {
  const spec = OWN_SECTIONS[key];
  if (!spec) return undefined;
  let section = extra.own.get(spec.owner);
  if (!section) {
    section = { id: spec.owner, title: spec.title, description: '', fields: [], groups: [] };
    extra.own.set(spec.owner, section);
  }
  return section;
}

function objectGroup(path: string[], schema: JsonSchema, title: string, extra: Extra): GroupSpec {
  const { methods } = extra;
  const group: GroupSpec = { id: path.join('.'), title, description: schema.description ?? '', fields: [], groups: [] };
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const p = [...path, key];
    const own = ownSection(extra, p.join('.'));
    const special = METHOD_SPECIFIC[p.join('.')];
    const target = special ? { id: p.join('.'), title: special.title, method: special.method } : undefined;
    if (own && sub.type === 'object' && sub.properties) {
      const child = objectGroup(p, sub, own.title, extra);
      // The owner's object: its description, fields (before any that joined) and groups become the section's.
      own.description = child.description;
      own.fields.unshift(...child.fields);
      own.groups.push(...child.groups);
    } else if (own) {
      own.fields.push(fieldSpec(p, sub));
    } else if (sub.type === 'object' && sub.properties) {
      const child = objectGroup(p, sub, target?.title ?? titleCase(key), extra);
      if (target) methods.push({ ...child, method: target.method });
      else group.groups.push(child);
    } else if (target) {
      methods.push({ ...target, description: sub.description ?? '', fields: [fieldSpec(p, sub)], groups: [] });
    } else {
      group.fields.push(fieldSpec(p, sub));
    }
  }
  return group;
}

function titleCase(key: string): string {
  const words = key.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function fieldSpec(path: string[], schema: JsonSchema): FieldSpec {
  const options: FieldSpec['options'] = [];
  const addEnum = (s: JsonSchema) =>
    s.enum?.forEach((v, i) => {
      options.push({ value: String(v), description: s.enumDescriptions?.[i] ?? '' });
    });
  let kind: FieldKind;
  let placeholder = '';
  if (schema.anyOf) {
    kind = 'union';
    for (const alt of schema.anyOf) addEnum(alt);
    const kinds = schema.anyOf.map((alt) =>
      alt.enum ? alt.enum.map(String).join(' or ') : `a ${alt.type ?? 'value'}`,
    );
    placeholder = kinds.join(' or ');
  } else if (schema.type === 'array') {
    if (schema.items?.enum) {
      kind = 'multiEnum';
      addEnum(schema.items);
    } else {
      kind = 'list';
      placeholder = 'comma-separated';
    }
  } else if (schema.enum) {
    kind = 'enum';
    addEnum(schema);
  } else if (schema.type === 'boolean') kind = 'boolean';
  else if (schema.type === 'number' || schema.type === 'integer') kind = 'number';
  else kind = 'text';
  const def = schema.default as JsonValue | undefined;
  if (def !== undefined && kind !== 'boolean' && kind !== 'multiEnum') placeholder = `default: ${displayValue(def)}`;
  return {
    path,
    label: path[path.length - 1] as string,
    kind,
    schema,
    description: schema.description ?? '',
    options,
    default: def,
    placeholder,
  };
}

/** Every field of the form, depth first. */
export function allFields(sections: readonly GroupSpec[]): FieldSpec[] {
  const out: FieldSpec[] = [];
  const walk = (g: GroupSpec) => {
    out.push(...g.fields);
    g.groups.forEach(walk);
  };
  sections.forEach(walk);
  return out;
}

function displayValue(v: JsonValue): string {
  return Array.isArray(v) ? v.map(displayValue).join(', ') : String(v);
}

/** A value as the field's text: lists comma-separated, nothing as ''. */
export function fieldText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => fieldText(v)).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * The config value for what was typed. Empty means "not set" (the key is removed and the default
 * applies). Text that is not a number in a number field is kept as text, so the validator reports
 * it in the field, in the editor's words, instead of the form silently dropping it.
 */
export function parseFieldText(kind: FieldKind, text: string): JsonValue | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  switch (kind) {
    case 'number':
    case 'union':
      return NUMBER.test(t) ? Number(t) : t;
    case 'list': {
      const items = t
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      return items.length > 0 ? items : undefined;
    }
    case 'boolean':
      return t === 'true' ? true : t === 'false' ? false : t;
    default:
      return t;
  }
}

export function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let v = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

export const pathKey = (path: readonly (string | number)[]): string => path.join('.');

/**
 * Diagnostics by the field they belong to: the field whose path is the longest prefix of the
 * diagnostic's path (a bad item of `eval.metrics` belongs to `eval.metrics`), else the group
 * (an unknown key under `training`), else '' (the whole file).
 */
export function diagnosticsByField(
  diagnostics: readonly Diagnostic[],
  fieldKeys: ReadonlySet<string>,
  groupKeys: ReadonlySet<string>,
): Map<string, Diagnostic[]> {
  const out = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    let key = '';
    for (let n = d.path.length; n > 0; n--) {
      const k = pathKey(d.path.slice(0, n));
      if (fieldKeys.has(k) || groupKeys.has(k)) {
        key = k;
        break;
      }
    }
    const list = out.get(key);
    if (list) list.push(d);
    else out.set(key, [d]);
  }
  return out;
}
