import type { TagSchemeReport } from '../../shared/data-report.js';
import { DataError, type Source } from './errors.js';
import type { Example, Label } from './records.js';

/**
 * The label set: the labels (tags, for token classification) of the training data, in a stable
 * order that fixes each label's id. A `label2id` from the model config is used when its keys are
 * exactly the data's labels (so a model fine-tuned before keeps its ids); otherwise strings sort
 * lexicographically (by UTF-16 code units, the same on every machine) and integers numerically.
 */
export interface LabelSet {
  /** labels[id] */
  labels: Label[];
  ids: Map<Label, number>;
  order: 'model-config' | 'sorted';
  /** Why a provided label2id was not used. */
  note?: string;
  /** Some training row lists several labels: multi-label classification. */
  multiLabel?: boolean;
  /** Some training label is a non-integer number: the labels are regression targets. */
  regression?: boolean;
}

export function labelsOf(e: Example): readonly Label[] {
  if (e.kind === 'text') return e.labels ?? (e.label === undefined ? [] : [e.label]);
  if (e.kind === 'tokens') return e.tags;
  return [];
}

const show = (l: Label) => (typeof l === 'string' ? `'${l}'` : String(l));

function listed(labels: readonly Label[]): string {
  const shown = labels.slice(0, 20).map(show).join(', ');
  return labels.length > 20 ? `${shown}, … (${labels.length} in all)` : shown;
}

function fromModelConfig(labels: Label[], label2id: Record<string, number>): { labels?: Label[]; note?: string } {
  const byName = new Map(labels.map((l) => [String(l), l]));
  const keys = Object.keys(label2id);
  const missing = keys.filter((k) => !byName.has(k));
  const extra = [...byName.keys()].filter((k) => !Object.hasOwn(label2id, k));
  if (missing.length > 0 || extra.length > 0) {
    // LABEL_0, LABEL_1, ... is what Hugging Face writes for a model that was never fine-tuned:
    // there is nothing to keep, so no note.
    if (keys.every((k) => /^LABEL_\d+$/.test(k))) return {};
    const parts = [
      missing.length > 0 ? `not in the data: ${missing.join(', ')}` : '',
      extra.length > 0 ? `not in the model's label2id: ${extra.join(', ')}` : '',
    ].filter(Boolean);
    return { note: `the model config's label2id was not used (${parts.join('; ')})` };
  }
  const ordered: Label[] = [];
  for (const [k, id] of Object.entries(label2id)) {
    if (!Number.isInteger(id) || id < 0 || id >= keys.length || ordered[id] !== undefined) {
      return { note: `the model config's label2id was not used (its ids are not 0..${keys.length - 1})` };
    }
    ordered[id] = byName.get(k) as Label;
  }
  return { labels: ordered };
}

export function buildLabelSet(train: readonly Example[], label2id?: Record<string, number>): LabelSet {
  const first = new Map<Label, Source>();
  let firstString: [Label, Source] | undefined;
  let firstInteger: [Label, Source] | undefined;
  for (const e of train) {
    for (const l of labelsOf(e)) {
      if (first.has(l)) continue;
      first.set(l, e.source);
      if (typeof l === 'string') firstString ??= [l, e.source];
      else firstInteger ??= [l, e.source];
    }
  }
  if (firstString && firstInteger) {
    const [s, sAt] = firstString;
    const [n, nAt] = firstInteger;
    throw new DataError(
      'mixed-labels',
      `the labels mix strings and integers: ${show(s)} (${sAt.file}:${sAt.line}) and ${n} (${nAt.file}:${nAt.line})`,
      undefined,
      'all labels strings or all integers',
    );
  }
  if ([...first.keys()].some((l) => typeof l === 'number' && !Number.isInteger(l))) {
    // Regression: the numbers are targets, not classes (one output, mean squared error).
    return { labels: [], ids: new Map(), order: 'sorted', regression: true };
  }
  const labels = [...first.keys()];
  const multi = train.some((e) => e.kind === 'text' && e.labels !== undefined) ? { multiLabel: true } : {};
  let note: string | undefined;
  if (label2id !== undefined) {
    const chosen = fromModelConfig(labels, label2id);
    if (chosen.labels) return { labels: chosen.labels, ids: indexOf(chosen.labels), order: 'model-config', ...multi };
    note = chosen.note;
  }
  labels.sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : a < b ? -1 : a > b ? 1 : 0));
  return { labels, ids: indexOf(labels), order: 'sorted', ...(note === undefined ? {} : { note }), ...multi };
}

function indexOf(labels: readonly Label[]): Map<Label, number> {
  return new Map(labels.map((l, i) => [l, i]));
}

/** Every validation label must be one the model is trained on: else an error naming the row. */
export function checkValidationLabels(validation: readonly Example[], set: LabelSet): void {
  if (set.regression) return;
  for (const e of validation) {
    for (const l of labelsOf(e)) {
      if (set.ids.has(l)) continue;
      throw new DataError(
        'unknown-label',
        `label ${show(l)} is not among the training labels (${listed(set.labels)})`,
        e.source,
        'a label that occurs in the training data',
      );
    }
  }
}

/** IOB2 tagging check for token classification: an I-X must follow B-X or I-X. */
export type { TagSchemeReport };

const IOB = /^(?:O|[BI]-.+)$/;

export function checkTagScheme(examples: readonly Example[], set: LabelSet): TagSchemeReport {
  if (!set.labels.every((l) => typeof l === 'string' && IOB.test(l))) return { scheme: 'other', violations: 0 };
  const report: TagSchemeReport = { scheme: 'IOB2', violations: 0 };
  for (const e of examples) {
    if (e.kind !== 'tokens') continue;
    let previous = 'O';
    for (const tag of e.tags as string[]) {
      if (tag.startsWith('I-') && previous !== `B-${tag.slice(2)}` && previous !== tag) {
        report.violations++;
        report.first ??= { ...e.source, tag, previous };
      }
      previous = tag;
    }
  }
  return report;
}
