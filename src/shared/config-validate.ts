import type { ResolvedConfig } from './config.js';
import { TAG_BREAKING_EDA } from './config-augment-rules.js';
import type { Budget } from './config-budget.js';
import { CONFIG_DEFAULTS, SWEEP_MAX_TRIALS_DEFAULT } from './config-defaults.js';
import { type ConfigFs, checkConfigFiles } from './config-files.js';
import { checkRules, LOWER_IS_BETTER, TASK_COLUMNS } from './config-rules.js';
import { CONFIG_SCHEMA, type JsonSchema } from './config-schema.js';
import { checkSchema } from './config-schema-check.js';
import { gridSize, type SweepParameter } from './config-sweep.js';
import {
  type ConfigFormat,
  type Diagnostic,
  type ParsedConfig,
  type Position,
  parseConfigText,
  toValue,
} from './config-tree.js';
import { MAX_DIAGNOSTICS } from './limits.js';

/**
 * Validation of a config file's text, shared by `finetune validate`, the extension's diagnostics
 * and the panel form: syntax, then the schema (config-schema.ts), then rules across keys
 * (config-rules.ts), and, given a file system, what the config names on disk (config-files.ts).
 * Browser-safe: no Node APIs.
 */
export { Budget } from './config-budget.js';
export type { ConfigFs } from './config-files.js';
export { checkConfigFiles, resolvePath } from './config-files.js';
export type {
  ConfigFormat,
  Diagnostic,
  Fix,
  ParsedConfig,
  Position,
  Range,
  Severity,
  TextEdit,
} from './config-tree.js';
export { formatOf, parseConfigText, tooLargeDiagnostic } from './config-tree.js';

export interface TextValidation {
  parsed: ParsedConfig;
  diagnostics: Diagnostic[];
}

/**
 * Syntax, schema and cross-key diagnostics, sorted by position (at most MAX_DIAGNOSTICS). A file
 * that doesn't parse gets only its syntax errors.
 */
export function validateConfigText(text: string, format: ConfigFormat, budget?: Budget): TextValidation {
  budget?.enter('the parse');
  const parsed = parseConfigText(text, format);
  const done = (list: Diagnostic[]) => ({ parsed, diagnostics: capDiagnostics(sortDiagnostics(list)) });
  if (parsed.syntax.some((d) => d.severity === 'error')) return done(parsed.syntax);
  if (budget?.over) return done([...parsed.syntax, budget.stopped('the checks after the parse')]);
  budget?.enter('the schema checks');
  const diagnostics = [...parsed.syntax, ...checkSchema(parsed, CONFIG_SCHEMA)];
  if (budget?.over) return done([...diagnostics, budget.stopped('the checks after the schema')]);
  budget?.enter('the rules across keys');
  if (parsed.root?.kind === 'object') diagnostics.push(...checkRules(parsed));
  return done(diagnostics);
}

export interface FileCheckOptions {
  fs: ConfigFs;
  /** The folder of the config file: model and data paths are relative to it. */
  configDir: string;
}

/** Everything validateConfigText reports, plus the file checks when a file system is given. */
export async function validateConfig(
  text: string,
  format: ConfigFormat,
  files?: FileCheckOptions,
  budget?: Budget,
): Promise<Diagnostic[]> {
  const { parsed, diagnostics } = validateConfigText(text, format, budget);
  if (!files || parsed.root?.kind !== 'object' || parsed.syntax.some((d) => d.severity === 'error')) return diagnostics;
  if (diagnostics.some((d) => d.code === 'validation-stopped')) return diagnostics;
  // Not cut by the budget: file checks wait on I/O, which does not stall the host (a slow disk
  // would otherwise lose them), and each of their steps is bounded by the readers' limits.
  budget?.enter('the checks of the files the config names');
  const found = await checkConfigFiles(parsed, files.fs, files.configDir);
  return capDiagnostics(sortDiagnostics([...diagnostics, ...found]));
}

export interface ConfigResolution {
  /** The config with defaults applied; undefined when there is any error. */
  config: ResolvedConfig | undefined;
  diagnostics: Diagnostic[];
}

/** What the engine runs: the validated config with every default filled in. */
export function resolveConfig(text: string, format: ConfigFormat): ConfigResolution {
  const { parsed, diagnostics } = validateConfigText(text, format);
  const ok = !diagnostics.some((d) => d.severity === 'error');
  return { config: ok ? applyDefaults(toValue(parsed.root)) : undefined, diagnostics };
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Fills in the schema's defaults (whose values come from config-defaults.ts), giving the
 * ResolvedConfig the engine runs; configs built in code go through it too. Sections a run always
 * has (training, eval, data.clean, and lora under method lora) are created; column defaults are
 * applied only for the columns the task reads, and EDA's tag-breaking operations not for token
 * classification; warmup_ratio's default only when warmup_steps is not
 * set; early stopping's metric and mode are derived from eval.metrics. Expects a value that passed
 * validation.
 */
export function applyDefaults(value: unknown): ResolvedConfig {
  const v = isObject(value) ? value : {};
  const task = typeof v.task === 'string' ? v.task : '';
  const training = isObject(v.training) ? v.training : {};
  const always = new Set(['training', 'eval', 'data.clean']);
  if ((training.method ?? CONFIG_DEFAULTS.training.method) === 'lora') always.add('training.lora');
  if (isObject(v.sweep)) for (const part of ['tpe', 'median', 'asha']) always.add(`sweep.${part}`);
  const columns = TASK_COLUMNS[task] ?? {};
  const skip = (path: string): boolean => {
    if (path === 'training.warmup_ratio') return training.warmup_steps !== undefined;
    if (task === 'token-classification' && TAG_BREAKING_EDA.some((k) => path === `data.augment.eda.${k}`)) return true;
    const [section, key] = path.split('.');
    return section === 'data' && key !== undefined && key.endsWith('_column') && !(key in columns);
  };
  const filled = fill(CONFIG_SCHEMA, v, '', always, skip) as Json;
  delete filled.$schema;
  const ev = filled.eval as Json;
  if (isObject(ev.early_stopping)) {
    const metrics = Array.isArray(ev.metrics) ? ev.metrics : [];
    const metric = (ev.early_stopping.metric ?? metrics[0] ?? 'loss') as string;
    ev.early_stopping = {
      ...ev.early_stopping,
      metric,
      mode: ev.early_stopping.mode ?? (LOWER_IS_BETTER.has(metric) ? 'min' : 'max'),
    };
  }
  if (isObject(filled.sweep)) filled.sweep = sweepDerived(filled.sweep, ev);
  return filled as unknown as ResolvedConfig;
}

/**
 * The sweep's objective defaults to the metric that picks the run's best checkpoint, so a trial's
 * objective is the value of the model it delivers; max_trials to every point of a grid.
 */
function sweepDerived(sweep: Json, ev: Json): Json {
  const early = isObject(ev.early_stopping) ? ev.early_stopping : {};
  const metrics = Array.isArray(ev.metrics) ? ev.metrics : [];
  const metric = (sweep.metric ?? early.metric ?? metrics[0] ?? 'loss') as string;
  const parameters = Array.isArray(sweep.parameters) ? (sweep.parameters as SweepParameter[]) : [];
  const trials = sweep.strategy === 'grid' ? gridSize(parameters) : SWEEP_MAX_TRIALS_DEFAULT;
  return {
    ...sweep,
    metric,
    mode: sweep.mode ?? (LOWER_IS_BETTER.has(metric) ? 'min' : 'max'),
    max_trials: sweep.max_trials ?? trials,
  };
}

function fill(
  schema: JsonSchema,
  value: unknown,
  path: string,
  always: ReadonlySet<string>,
  skip: (path: string) => boolean,
): unknown {
  if (!isObject(value) || !schema.properties) return value;
  const out: Json = { ...value };
  for (const [key, sub] of Object.entries(schema.properties)) {
    const p = path ? `${path}.${key}` : key;
    if (out[key] !== undefined) out[key] = fill(sub, out[key], p, always, skip);
    else if (always.has(p)) out[key] = fill(sub, {}, p, always, skip);
    else if (sub.default !== undefined && !skip(p)) out[key] = structuredCloneJson(sub.default);
  }
  return out;
}

function structuredCloneJson(v: unknown): unknown {
  return Array.isArray(v) ? [...v] : v;
}

function before(a: Position, b: Position): number {
  return a.line - b.line || a.character - b.character;
}

export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => before(a.range.start, b.range.start) || before(a.range.end, b.range.end));
}

/**
 * The first MAX_DIAGNOSTICS of a sorted list, and one more that counts the rest (an error if any
 * of them is one, so a capped list still says whether the config has errors).
 */
export function capDiagnostics(list: Diagnostic[]): Diagnostic[] {
  if (list.length <= MAX_DIAGNOSTICS) return list;
  const rest = list.slice(MAX_DIAGNOSTICS);
  const first = rest[0] as Diagnostic;
  const severity = rest.some((d) => d.severity === 'error') ? 'error' : 'warning';
  const message = `${rest.length} more problems from here on are not listed (the first ${MAX_DIAGNOSTICS} are).`;
  return [...list.slice(0, MAX_DIAGNOSTICS), { severity, message, code: 'too-many', path: [], range: first.range }];
}
