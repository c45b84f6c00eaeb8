import { checkAugmentRules } from './config-augment-rules.js';
import { CONFIG_DEFAULTS } from './config-defaults.js';
import { EVAL_LOSS, METRIC_NAMES, metricDirection } from './config-metrics.js';
import { METRIC_TASKS } from './config-schema.js';
import { diag, type Path, removeEdit } from './config-schema-check.js';
import { checkSeq2SeqRules } from './config-seq2seq-rules.js';
import { checkSweep } from './config-sweep-rules.js';
import { TASK_DOCS, TASK_NAMES } from './config-tasks.js';
import {
  type ConfigNode,
  type Diagnostic,
  type Entry,
  entryAt,
  type Fix,
  nodeAt,
  type ParsedConfig,
} from './config-tree.js';

/**
 * Rules that span several keys, which JSON Schema can't say: mutually exclusive keys, keys that
 * only mean something with some method or task, early stopping that can't work, and advice on
 * hyperparameters. Values of the wrong type are left alone here: the schema check reports them.
 */

/** The data columns each task reads, with their defaults (config-tasks.ts). */
export const TASK_COLUMNS: Readonly<Record<string, Readonly<Record<string, string | undefined>>>> = Object.fromEntries(
  TASK_NAMES.map((name) => [name, TASK_DOCS[name].columns]),
);

const ALL_COLUMNS = [
  'text_column',
  'text_pair_column',
  'label_column',
  'tokens_column',
  'tags_column',
  'source_column',
  'target_column',
];

/** Metrics where lower is better; early stopping defaults to mode `min` for these. */
export const LOWER_IS_BETTER: ReadonlySet<string> = new Set(
  [EVAL_LOSS, ...METRIC_NAMES].filter((m) => metricDirection(m) === 'min'),
);

export function checkRules(parsed: ParsedConfig): Diagnostic[] {
  const root = parsed.root;
  const out: Diagnostic[] = [];
  const value = (path: string[]): unknown => {
    const n = nodeAt(root, path);
    return n?.kind === 'scalar' ? n.value : n;
  };
  const str = (path: string[]): string | undefined => {
    const v = value(path);
    return typeof v === 'string' ? v : undefined;
  };
  const entry = (path: string[]): Entry | undefined => entryAt(root, path);
  const push = (severity: Diagnostic['severity'], msg: string, code: string, path: Path, at: Entry, fixes?: Fix[]) =>
    out.push(diag(parsed, severity, msg, code, path, at.keySpan, fixes));
  const onValue = (severity: Diagnostic['severity'], msg: string, code: string, path: string[], node: ConfigNode) =>
    out.push(diag(parsed, severity, msg, code, path, node.span));

  exclusive(parsed, out, ['training', 'warmup_ratio'], ['training', 'warmup_steps']);
  exclusive(parsed, out, ['data', 'validation'], ['data', 'validation_split']);

  const task = str(['task']);
  const method = str(['training', 'method']) ?? CONFIG_DEFAULTS.training.method;
  const hasValidation =
    entry(['data', 'validation']) !== undefined || entry(['data', 'validation_split']) !== undefined;
  const metricsNode = nodeAt(root, ['eval', 'metrics']);
  const metrics = metricsNode?.kind === 'array' ? metricsNode.items : [];
  const metricNames = metrics.flatMap((m) => (m.kind === 'scalar' && typeof m.value === 'string' ? [m.value] : []));

  const evalEntry = entry(['eval']);
  const early = entry(['eval', 'early_stopping']);
  // With data of the wrong type the schema error says enough.
  const dataOk = nodeAt(root, ['data'])?.kind === 'object';
  if (!dataOk) {
    // Nothing to say about validation data.
  } else if (early && !hasValidation) {
    const msg = 'Early stopping needs a validation set: set data.validation or data.validation_split.';
    push('error', msg, 'no-validation', ['eval', 'early_stopping'], early);
  } else if (evalEntry?.value.kind === 'object' && !hasValidation) {
    const msg = 'There is no validation set, so no evaluation runs: set data.validation or data.validation_split.';
    push('warning', msg, 'no-validation', ['eval'], evalEntry);
  }

  const metricNode = nodeAt(root, ['eval', 'early_stopping', 'metric']);
  const metric = str(['eval', 'early_stopping', 'metric']);
  if (
    metricNode &&
    metric !== undefined &&
    metric !== 'loss' &&
    metric in METRIC_TASKS &&
    !metricNames.includes(metric)
  ) {
    const msg = `Early stopping watches '${metric}', which is not computed: add it to eval.metrics or use loss.`;
    onValue('error', msg, 'early-stopping-metric', ['eval', 'early_stopping', 'metric'], metricNode);
  }
  const modeNode = nodeAt(root, ['eval', 'early_stopping', 'mode']);
  const mode = str(['eval', 'early_stopping', 'mode']);
  const watched = metric ?? metricNames[0] ?? 'loss';
  if (modeNode && (mode === 'max' || mode === 'min') && (mode === 'min') !== LOWER_IS_BETTER.has(watched)) {
    const better = LOWER_IS_BETTER.has(watched) ? 'lower' : 'higher';
    const msg = `A ${better} ${watched} is better, so mode ${mode} stops on the wrong trend: use ${better === 'lower' ? 'min' : 'max'}.`;
    onValue('warning', msg, 'early-stopping-mode', ['eval', 'early_stopping', 'mode'], modeNode);
  }

  if (task !== undefined && task in TASK_COLUMNS) {
    metrics.forEach((m, i) => {
      if (m.kind !== 'scalar' || typeof m.value !== 'string') return;
      const tasks = METRIC_TASKS[m.value];
      if (tasks && !tasks.includes(task)) {
        const usable = Object.keys(METRIC_TASKS).filter((k) => METRIC_TASKS[k]?.includes(task));
        const msg = `${m.value} is not computed for ${task}; available: ${usable.join(', ')}.`;
        out.push(diag(parsed, 'error', msg, 'metric-task', ['eval', 'metrics', i], m.span));
      }
    });
    const used = TASK_COLUMNS[task] ?? {};
    for (const column of ALL_COLUMNS) {
      const e = entry(['data', column]);
      if (!e || column in used) continue;
      const remove = { title: `Remove '${column}'`, edits: [removeEdit(parsed, e.removeSpan)] };
      push('warning', `${column} is not used by ${task}.`, 'unused-key', ['data', column], e, [remove]);
    }
    const seen = new Map<string, string>();
    for (const column of Object.keys(used)) {
      const node = nodeAt(root, ['data', column]);
      const name = node?.kind === 'scalar' && typeof node.value === 'string' ? node.value : used[column];
      if (name === undefined) continue;
      const other = seen.get(name);
      if (other && node)
        onValue('error', `${column} and ${other} both name column '${name}'.`, 'same-column', ['data', column], node);
      seen.set(name, column);
    }
  }

  distillationRules(parsed, out, task, entry);
  out.push(...checkSeq2SeqRules(parsed, task));
  out.push(...checkAugmentRules(parsed, task));
  methodRules(parsed, out, method, entry);
  out.push(...checkSweep(parsed, hasValidation, metricNames));
  return out;
}

/** The tasks training.distillation trains (single-label text classification, token classification, causal LM). */
export const DISTILLATION_TASKS: readonly string[] = ['text-classification', 'token-classification', 'causal-lm'];

function distillationRules(
  parsed: ParsedConfig,
  out: Diagnostic[],
  task: string | undefined,
  entry: (path: string[]) => Entry | undefined,
): void {
  const distill = entry(['training', 'distillation']);
  if (distill && task !== undefined && !DISTILLATION_TASKS.includes(task)) {
    const msg = `training.distillation trains ${DISTILLATION_TASKS.slice(0, -1).join(', ')} and ${DISTILLATION_TASKS.at(-1)}, not ${task}.`;
    out.push(diag(parsed, 'error', msg, 'distillation-task', ['training', 'distillation'], distill.keySpan));
  }
  const unlabeled = entry(['data', 'unlabeled']);
  if (!unlabeled) return;
  if (!distill) {
    const fix = { title: "Remove 'unlabeled'", edits: [removeEdit(parsed, unlabeled.removeSpan)] };
    const msg = 'data.unlabeled is only used with training.distillation (its rows get the teacher loss alone).';
    out.push(diag(parsed, 'warning', msg, 'unused-key', ['data', 'unlabeled'], unlabeled.keySpan, [fix]));
  } else if (task !== undefined && task !== 'text-classification') {
    const msg = `data.unlabeled is read for text-classification only, not ${task}.`;
    out.push(diag(parsed, 'error', msg, 'unlabeled-task', ['data', 'unlabeled'], unlabeled.keySpan));
  }
}

function methodRules(
  parsed: ParsedConfig,
  out: Diagnostic[],
  method: string,
  entry: (path: string[]) => Entry | undefined,
): void {
  const onlyWith = (key: string, wanted: string) => {
    const e = entry(['training', key]);
    if (!e || method === wanted) return;
    const fix = { title: `Remove '${key}'`, edits: [removeEdit(parsed, e.removeSpan)] };
    const msg = `training.${key} is only used with method: ${wanted} (the method is ${method}).`;
    out.push(diag(parsed, 'warning', msg, 'unused-key', ['training', key], e.keySpan, [fix]));
  };
  onlyWith('lora', 'lora');
  onlyWith('freeze_layers', 'freeze');

  const methodEntry = entry(['training', 'method']);
  if (method === 'freeze' && methodEntry && !entry(['training', 'freeze_layers'])) {
    const msg = "method: freeze needs training.freeze_layers: the number of bottom layers to freeze, or 'all'.";
    out.push(diag(parsed, 'error', msg, 'freeze-layers-required', ['training', 'method'], methodEntry.value.span));
  }

  const lrNode = nodeAt(parsed.root, ['training', 'learning_rate']);
  const lr = lrNode?.kind === 'scalar' && typeof lrNode.value === 'number' ? lrNode.value : undefined;
  if (lrNode && lr !== undefined) {
    const advice =
      method === 'lora'
        ? lr > 1e-2 && 'LoRA adapters usually train at 1e-4 to 1e-3.'
        : lr > 1e-3 &&
          `pretrained transformers usually fine-tune at 1e-5 to 1e-4${method === 'freeze' ? ' (a frozen model with a fresh head tolerates a little more)' : ''}.`;
    if (advice) {
      const msg = `A learning rate of ${lr} is high for ${method === 'full' ? 'full fine-tuning' : `method ${method}`} and may destroy the pretrained weights: ${advice}`;
      out.push(diag(parsed, 'warning', msg, 'learning-rate', ['training', 'learning_rate'], lrNode.span));
    }
  }
}

/** Two keys of which at most one may be set: an error on each key, with a fix removing either one. */
function exclusive(parsed: ParsedConfig, out: Diagnostic[], a: string[], b: string[]): void {
  const ea = entryAt(parsed.root, a);
  const eb = entryAt(parsed.root, b);
  if (!ea || !eb) return;
  const nameA = a[a.length - 1] as string;
  const nameB = b[b.length - 1] as string;
  const removeA = { title: `Remove '${nameA}'`, edits: [removeEdit(parsed, ea.removeSpan)] };
  const removeB = { title: `Remove '${nameB}'`, edits: [removeEdit(parsed, eb.removeSpan)] };
  const msg = (self: string, other: string) => `Set either ${self} or ${other}, not both.`;
  out.push(diag(parsed, 'error', msg(nameA, nameB), 'exclusive', a, ea.keySpan, [removeA, removeB]));
  out.push(diag(parsed, 'error', msg(nameB, nameA), 'exclusive', b, eb.keySpan, [removeB, removeA]));
}
