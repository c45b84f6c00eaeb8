import {
  type DataStats,
  type LengthHistogram,
  type LengthStats,
  lengthBin,
  type SplitStats,
} from '../../shared/data-report.js';
import type { LabelSet } from './labels.js';
import { labelsOf } from './labels.js';
import type { Example } from './records.js';

/**
 * Dataset statistics: label distribution, token lengths with the model's tokenizer (anything with
 * `countTokens`, so this module does not depend on a tokenizer implementation) and the share of
 * examples longer than `max_length`, which training truncates.
 */
export interface TokenCounter {
  countTokens(text: string, pair?: string): number;
}

/** The fallback when no tokenizer is available: whitespace-separated words (and no special tokens). */
export const whitespaceCounter: TokenCounter = {
  countTokens(text, pair) {
    const words = (s: string) => s.split(/\s+/).filter((w) => w !== '').length;
    return words(text) + (pair === undefined ? 0 : words(pair));
  },
};

/** Above this share of truncated examples, a warning. */
export const TRUNCATION_WARNING = 0.05;

export type { DataStats, LengthHistogram, LengthStats, SplitStats };

/** At most this many histogram bins; the last holds every longer length. */
export const MAX_BINS = 64;
/** Bins up to max_length (or up to the longest example, when shorter), where the lengths allow. */
const BINS_TO_CUT = 16;

/**
 * The histogram of sorted token lengths (see LengthHistogram): width ceil(max_length / 16), so that
 * max_length 128, 256, 512... is a bin edge and 64 bins reach 4 × max_length, the last one open
 * above; when every example fits, ceil(longest / 16), so that short texts under a long max_length
 * are not all in one bin.
 */
export function lengthHistogram(sorted: ArrayLike<number>, maxLength: number): LengthHistogram {
  const longest = sorted.length > 0 ? (sorted[sorted.length - 1] as number) : 0;
  const reference = longest <= maxLength ? Math.max(1, longest) : maxLength;
  const width = Math.max(1, Math.ceil(reference / BINS_TO_CUT));
  const needed = lengthBin(longest, width) + 1;
  const bins = Math.min(needed, MAX_BINS);
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < sorted.length; i++) {
    const bin = Math.min(lengthBin(sorted[i] as number, width), bins - 1);
    counts[bin] = (counts[bin] as number) + 1;
  }
  return needed > MAX_BINS ? { width, counts, openEnded: true } : { width, counts };
}

export function tokenLength(e: Example, counter: TokenCounter): number {
  switch (e.kind) {
    case 'text':
      return counter.countTokens(e.text, e.pair);
    case 'tokens':
      return counter.countTokens(e.tokens.join(' '));
    case 'qa':
      return counter.countTokens(e.question, e.context);
    case 'completion':
      return counter.countTokens(e.prompt + e.completion);
    case 'seq2seq':
      // The source, which data.max_source_length truncates (the target has its own limit).
      return counter.countTokens(e.sourceText);
    case 'chat':
      // Without the template (the counter knows only text): the turns' contents, a lower bound.
      return counter.countTokens(e.messages.map((m) => m.content).join('\n'));
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

function splitStats(examples: readonly Example[], counter: TokenCounter, maxLength: number, set?: LabelSet) {
  const lengths = Float64Array.from(examples, (e) => tokenLength(e, counter)).sort();
  let sum = 0;
  let truncated = 0;
  for (const n of lengths) {
    sum += n;
    if (n > maxLength) truncated++;
  }
  const stats: SplitStats = {
    examples: examples.length,
    tokens: {
      p50: percentile(lengths, 50),
      p90: percentile(lengths, 90),
      p99: percentile(lengths, 99),
      max: lengths.length > 0 ? (lengths[lengths.length - 1] as number) : 0,
      mean: lengths.length > 0 ? Number((sum / lengths.length).toFixed(1)) : 0,
    },
    histogram: lengthHistogram(lengths, maxLength),
    truncated: { count: truncated, fraction: examples.length > 0 ? truncated / examples.length : 0 },
  };
  if (set) {
    const counts = new Array<number>(set.labels.length).fill(0);
    let total = 0;
    for (const e of examples) {
      for (const l of labelsOf(e)) {
        const id = set.ids.get(l);
        if (id !== undefined) counts[id] = (counts[id] as number) + 1;
        total++;
      }
    }
    stats.labels = set.labels.map((label, i) => ({
      label,
      count: counts[i] as number,
      fraction: total > 0 ? (counts[i] as number) / total : 0,
    }));
  }
  return stats;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function computeStats(
  train: readonly Example[],
  validation: readonly Example[],
  opts: { counter: TokenCounter; counterName: string; maxLength: number; labels?: LabelSet; grouped?: boolean },
): DataStats {
  const stats: DataStats = {
    counter: opts.counterName,
    maxLength: opts.maxLength,
    ...(opts.grouped ? { grouped: true } : {}),
    train: splitStats(train, opts.counter, opts.maxLength, opts.labels),
    warnings: [],
  };
  if (validation.length > 0) stats.validation = splitStats(validation, opts.counter, opts.maxLength, opts.labels);
  for (const [name, s] of [
    ['training', stats.train],
    ['validation', stats.validation],
  ] as const) {
    if (s && !opts.grouped && s.truncated.fraction > TRUNCATION_WARNING) {
      stats.warnings.push(
        `${pct(s.truncated.fraction)} of the ${name} examples are longer than max_length ${opts.maxLength} and will be truncated (p99 ${s.tokens.p99} tokens): raise data.max_length or shorten the texts`,
      );
    }
  }
  const present = stats.train.labels?.filter((l) => l.count > 0) ?? [];
  if (present.length > 1) {
    const counts = present.map((l) => l.count);
    const ratio = Math.max(...counts) / Math.min(...counts);
    if (ratio >= 10) {
      stats.warnings.push(`the training labels are imbalanced: the largest class is ${ratio.toFixed(0)}x the smallest`);
    }
  }
  const missing = stats.validation?.labels?.filter((l) => l.count === 0).map((l) => String(l.label)) ?? [];
  if (missing.length > 0) stats.warnings.push(`no validation example has the label(s): ${missing.join(', ')}`);
  return stats;
}

function lengthLine(name: string, s: SplitStats, maxLength: number): string {
  const t = s.tokens;
  return `  ${name.padEnd(10)} ${String(s.examples).padStart(8)} examples  tokens p50 ${t.p50}  p90 ${t.p90}  p99 ${t.p99}  max ${t.max}  mean ${t.mean}  > ${maxLength}: ${s.truncated.count} (${pct(s.truncated.fraction)})`;
}

export function renderStats(stats: DataStats): string {
  const lines = [`token lengths (${stats.counter}):`, lengthLine('train', stats.train, stats.maxLength)];
  if (stats.validation) lines.push(lengthLine('validation', stats.validation, stats.maxLength));
  const trainLabels = stats.train.labels;
  if (trainLabels) {
    const valLabels = stats.validation?.labels;
    const width = Math.max(5, ...trainLabels.map((l) => String(l.label).length));
    lines.push(
      'labels:',
      `  ${'label'.padEnd(width)}  ${'train'.padStart(16)}${valLabels ? '  validation'.padStart(18) : ''}`,
    );
    trainLabels.forEach((l, i) => {
      const v = valLabels?.[i];
      const cell = (c: { count: number; fraction: number }) => `${c.count} (${pct(c.fraction)})`.padStart(16);
      lines.push(`  ${String(l.label).padEnd(width)}  ${cell(l)}${v ? `  ${cell(v)}` : ''}`);
    });
  }
  for (const w of stats.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

/** The statistics as written to the run directory (labels keep their JSON type). */
export function statsJson(stats: DataStats): Record<string, unknown> {
  return JSON.parse(JSON.stringify(stats)) as Record<string, unknown>;
}
