/**
 * `data-report.json`, what data preparation found (run directory **contract**): written by the
 * engine into each run directory (src/engine/data/prepare.ts builds it, src/engine/train writes it),
 * printed by `finetune data stats <config> [--format json]`, and shown by the run panel's Data tab.
 * The one definition of its type; the engine's data modules re-export the parts they build.
 * Change only together with every reader (src/shared/data-report-check.ts checks what they read).
 */

/** A label as the data writes it (a class name or id; a tag for token classification). */
export type Label = string | number;

export type DataFileFormat = 'jsonl' | 'csv' | 'tsv' | 'txt';

/** How many rows each list of the report names (bad rows, duplicates, leakage); the rest are counted. */
export const ROWS_LISTED = 100;

/** Where a record, or a problem, is in its file. */
export interface Source {
  file: string;
  /** 1-based line where the record starts. */
  line: number;
  /** 1-based field number, for CSV/TSV problems that concern one field. */
  column?: number;
}

export type DataErrorKind =
  | 'format' // unsupported extension, JSON array instead of JSON lines, UTF-16 file
  | 'encoding' // bytes that are not valid UTF-8
  | 'malformed-json'
  | 'line-too-long' // a line over MAX_LINE_BYTES (its bytes are not read into memory)
  | 'field-count' // CSV row with more or fewer fields than the header
  | 'quoting' // CSV quote not closed, or a quote where RFC 4180 allows none
  | 'missing-column'
  | 'empty-text'
  | 'wrong-type'
  | 'inconsistent' // e.g. tokens and tags of different lengths, an answer not found at answer_start
  | 'unknown-label' // a validation label the training data does not have
  | 'mixed-labels' // string and integer labels in one dataset
  | 'empty-dataset'
  | 'config';

/** One skipped row as listed in the report. */
export interface BadRow extends Source {
  kind: DataErrorKind;
  /** The whole error text, location included. */
  message: string;
}

export interface FileReport {
  path: string;
  format: DataFileFormat;
  /** Examples read successfully (before cleaning and de-duplication). */
  examples: number;
  /** Rows skipped as bad (`on_bad_rows: skip`). */
  skipped: number;
}

/** What cleaning changed in one file. */
export interface CleanCounts {
  examples: number;
  html: number;
  normalized: number;
  control: number;
  whitespace: number;
  lowercased: number;
  /** Dropped: no text left after cleaning. */
  emptied: number;
  /** Dropped (question answering): an answer no longer found in the cleaned context. */
  answersLost: number;
}

export interface DuplicatePair {
  kept: Source;
  removed: Source;
}

export interface ConflictPair extends DuplicatePair {
  labels: [string, string];
}

export interface DedupReport {
  exact: number;
  /**
   * The first ROWS_LISTED exact duplicates removed, each with the row it repeats (the checked
   * reader gives reports written before it was added an empty list).
   */
  exactExamples: DuplicatePair[];
  /** Exact duplicates with a different label; counted in `exact` too. */
  conflicting: number;
  conflicts: ConflictPair[];
  near: number;
  nearExamples: DuplicatePair[];
}

/** Examples whose content is in both training and validation data. */
export interface LeakageReport {
  count: number;
  examples: { text: string; train: Source; validation: Source }[];
}

export interface TagSchemeReport {
  scheme: 'IOB2' | 'other';
  violations: number;
  first?: Source & { tag: string; previous: string };
}

export interface LengthStats {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Token lengths counted in bins of `width` tokens: `counts[0]` holds lengths 0..width, `counts[i]`
 * (i ≥ 1) lengths i·width+1 .. (i+1)·width. Bins are closed above, so when max_length is a multiple
 * of `width` (the usual powers of two) the max_length cut is a bin edge and every bin after it is
 * truncated. The last bin holds the longest example; when `openEnded`, it also holds every longer
 * length (the bins stop at about 4 × max_length, so a few very long texts keep the bins near the
 * cut narrow).
 */
export interface LengthHistogram {
  width: number;
  counts: number[];
  openEnded?: boolean;
}

/** The bin of a token length (see LengthHistogram). */
export function lengthBin(length: number, width: number): number {
  return length <= 0 ? 0 : Math.floor((length - 1) / width);
}

/** The lengths bin `i` holds, both ends included. */
export function binRange(i: number, width: number): [number, number] {
  return [i === 0 ? 0 : i * width + 1, (i + 1) * width];
}

export interface LabelCount {
  label: Label;
  count: number;
  fraction: number;
}

export interface SplitStats {
  examples: number;
  /** Per label (per tag for token classification), in label-id order. */
  labels?: LabelCount[];
  tokens: LengthStats;
  /** Absent in reports written before the histogram was added. */
  histogram?: LengthHistogram;
  truncated: { count: number; fraction: number };
}

export interface DataStats {
  /** What counted the tokens, e.g. the tokenizer file, or "whitespace words (…)". */
  counter: string;
  maxLength: number;
  /**
   * The texts are joined and cut into blocks of maxLength tokens (language modelling with
   * grouping): a longer text spans blocks, nothing is truncated (the `truncated` counts still say
   * how many are longer than one block).
   */
  grouped?: boolean;
  train: SplitStats;
  validation?: SplitStats;
  warnings: string[];
}

export interface DataReport {
  /** The config's task (a TaskName; a string here so that a newer engine's task still reads). */
  task: string;
  /** The rows' layout where the data decides it (causal-lm: text, prompt-completion or messages). */
  layout?: string;
  files: { train: FileReport; validation?: FileReport };
  split?: { fraction: number; seed: number; stratified: boolean };
  skipped: { count: number; rows: BadRow[] };
  clean: { train: CleanCounts; validation?: CleanCounts };
  duplicates: { train: DedupReport; validation?: DedupReport };
  leakage: LeakageReport;
  /** Final sizes after cleaning, de-duplication and splitting. */
  sizes: { train: number; validation: number };
  labels?: { labels: Label[]; order: 'model-config' | 'sorted'; note?: string };
  tagScheme?: TagSchemeReport;
  stats?: DataStats;
  warnings: string[];
  /** What encoding the rows said (a run's report, tasks that report it: e.g. chat-template notes). */
  encoding?: string[];
}

export const DATA_REPORT_FILE = 'data-report.json';
