import { DATA_REPORT_FILE, type DataReport, ROWS_LISTED } from './data-report.js';

/**
 * A data-report.json value checked for what its readers use (the run panel's Data tab), or a
 * message naming the first thing wrong by its JSON path. The file may come from another engine
 * version or be copied from elsewhere, and the panel builds tables and bars from it: nothing is
 * trusted blindly. Reports written before `exactExamples` existed read with an empty list.
 * A streamed run's report (a tokenized corpus: no rows in memory, so nothing listed) is refused
 * with a message saying so.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isLabel = (v: unknown) => typeof v === 'string' || isNum(v);
/** Lists longer than this (the engine writes ROWS_LISTED) are refused rather than drawn. */
const MAX_ROWS = 10 * ROWS_LISTED;
const MAX_BINS = 1024;

/** The first problem of `v` at `path`, or undefined. */
type Check = (v: unknown, path: string) => string | undefined;

const counts =
  (...keys: string[]): Check =>
  (v, path) => {
    if (!isObj(v)) return `${path} is not an object`;
    for (const k of keys) if (!isCount(v[k])) return `${path}.${k} is not a count`;
    return undefined;
  };

const list =
  (item: Check, max?: number): Check =>
  (v, path) => {
    if (!Array.isArray(v)) return `${path} is not an array`;
    if (max !== undefined && v.length > max) return `${path} has ${v.length} entries, more than ${max}`;
    for (const [i, x] of v.entries()) {
      const problem = item(x, `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  };

const source: Check = (v, path) => {
  if (!isObj(v)) return `${path} is not an object`;
  if (typeof v.file !== 'string') return `${path}.file is not a string`;
  if (!Number.isSafeInteger(v.line) || (v.line as number) < 1) return `${path}.line is not a 1-based line number`;
  if (v.column !== undefined && !(Number.isSafeInteger(v.column) && (v.column as number) >= 1))
    return `${path}.column is not a 1-based column number`;
  return undefined;
};

const badRow: Check = (v, path) =>
  source(v, path) ??
  (typeof (v as Obj).kind !== 'string' || typeof (v as Obj).message !== 'string'
    ? `${path} has no kind and message`
    : undefined);

const pair: Check = (v, path) =>
  isObj(v) ? (source(v.kept, `${path}.kept`) ?? source(v.removed, `${path}.removed`)) : `${path} is not an object`;

const conflict: Check = (v, path) =>
  pair(v, path) ??
  (Array.isArray((v as Obj).labels) && ((v as Obj).labels as unknown[]).length === 2
    ? undefined
    : `${path}.labels is not a pair`);

const leak: Check = (v, path) => {
  if (!isObj(v)) return `${path} is not an object`;
  if (typeof v.text !== 'string') return `${path}.text is not a string`;
  return source(v.train, `${path}.train`) ?? source(v.validation, `${path}.validation`);
};

const fileReport: Check = (v, path) =>
  counts('examples', 'skipped')(v, path) ??
  (typeof (v as Obj).path !== 'string' || typeof (v as Obj).format !== 'string'
    ? `${path} has no path and format`
    : undefined);

const cleanCounts = counts('examples', 'html', 'normalized', 'control', 'whitespace', 'lowercased', 'emptied');

const dedup: Check = (v, path) => {
  const problem = counts('exact', 'conflicting', 'near')(v, path);
  if (problem) return problem;
  const d = v as Obj;
  if (d.exactExamples === undefined) d.exactExamples = [];
  return (
    list(pair, MAX_ROWS)(d.exactExamples, `${path}.exactExamples`) ??
    list(conflict, MAX_ROWS)(d.conflicts, `${path}.conflicts`) ??
    list(pair, MAX_ROWS)(d.nearExamples, `${path}.nearExamples`)
  );
};

const splitStats: Check = (v, path) => {
  const problem = counts('examples')(v, path);
  if (problem) return problem;
  const s = v as Obj;
  const tokens = s.tokens;
  if (!isObj(tokens) || !['p50', 'p90', 'p99', 'max', 'mean'].every((k) => isNum(tokens[k])))
    return `${path}.tokens is not {p50, p90, p99, max, mean}`;
  if (!isObj(s.truncated) || !isCount(s.truncated.count) || !isNum(s.truncated.fraction))
    return `${path}.truncated is not {count, fraction}`;
  const h = s.histogram;
  if (h !== undefined) {
    if (!isObj(h) || !Number.isSafeInteger(h.width) || (h.width as number) < 1)
      return `${path}.histogram.width is not a positive integer`;
    if (h.openEnded !== undefined && typeof h.openEnded !== 'boolean')
      return `${path}.histogram.openEnded is not a boolean`;
    const bins = list((c, p) => (isCount(c) ? undefined : `${p} is not a count`), MAX_BINS)(
      h.counts,
      `${path}.histogram.counts`,
    );
    if (bins) return bins;
  }
  if (s.labels !== undefined) {
    return list((l, p) =>
      isObj(l) && isLabel(l.label) && isCount(l.count) && isNum(l.fraction)
        ? undefined
        : `${p} is not {label, count, fraction}`,
    )(s.labels, `${path}.labels`);
  }
  return undefined;
};

function checkStats(v: unknown): string | undefined {
  if (!isObj(v)) return 'stats is not an object';
  if (typeof v.counter !== 'string' || !isCount(v.maxLength)) return 'stats has no counter and maxLength';
  if (v.grouped !== undefined && typeof v.grouped !== 'boolean') return 'stats.grouped is not a boolean';
  if (!Array.isArray(v.warnings) || !v.warnings.every((w) => typeof w === 'string'))
    return 'stats.warnings is not a list of strings';
  return (
    splitStats(v.train, 'stats.train') ??
    (v.validation === undefined ? undefined : splitStats(v.validation, 'stats.validation'))
  );
}

/** The report's other required parts, each with its check. */
const PARTS: [key: string, check: Check][] = [
  ['skipped', (v, p) => counts('count')(v, p) ?? list(badRow, MAX_ROWS)((v as Obj).rows, `${p}.rows`)],
  ['leakage', (v, p) => counts('count')(v, p) ?? list(leak, MAX_ROWS)((v as Obj).examples, `${p}.examples`)],
  ['sizes', counts('train', 'validation')],
];

export function checkDataReport(value: unknown): DataReport | string {
  if (!isObj(value)) return 'not a JSON object';
  if (isObj(value.streamed))
    return "a streamed run's report (a tokenized corpus): it counts rows but lists none, so the Data view has nothing to show";
  if (typeof value.task !== 'string') return 'task is not a string';
  if (value.layout !== undefined && typeof value.layout !== 'string') return 'layout is not a string';
  for (const split of ['train', 'validation'] as const) {
    const optional = split === 'validation';
    for (const [part, check] of [
      ['files', fileReport],
      ['clean', cleanCounts],
      ['duplicates', dedup],
    ] as const) {
      const holder = value[part];
      if (!isObj(holder)) return `${part} is not an object`;
      if (optional && holder[split] === undefined) continue;
      const problem = check(holder[split], `${part}.${split}`);
      if (problem) return problem;
    }
  }
  for (const [key, check] of PARTS) {
    const problem = check(value[key], key);
    if (problem) return problem;
  }
  const labels = value.labels;
  if (labels !== undefined && !(isObj(labels) && Array.isArray(labels.labels) && labels.labels.every(isLabel)))
    return 'labels.labels is not a list of labels';
  if (value.stats !== undefined) {
    const problem = checkStats(value.stats);
    if (problem) return problem;
  }
  for (const key of ['warnings', 'encoding'] as const) {
    const v = value[key];
    if (key === 'encoding' && v === undefined) continue;
    if (!Array.isArray(v) || !v.every((w) => typeof w === 'string')) return `${key} is not a list of strings`;
  }
  return value as unknown as DataReport;
}

/** data-report.json's text parsed and checked, or a message saying what is wrong with it (`file` names it). */
export function parseDataReport(text: string, file: string = DATA_REPORT_FILE): DataReport | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `${file} is not valid JSON (${(err as Error).message})`;
  }
  const checked = checkDataReport(value);
  return typeof checked === 'string' ? `${file}: ${checked}` : checked;
}
