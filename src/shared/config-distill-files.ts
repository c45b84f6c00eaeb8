import type { ConfigFs } from './config-files.js';
import { TASK_COLUMNS } from './config-rules.js';
import { diag } from './config-schema-check.js';
import { type Diagnostic, nodeAt, type ParsedConfig } from './config-tree.js';
import { jsonlHead } from './jsonl-head.js';
import { RUN_FILES } from './run-directory.js';

/**
 * A key naming a model: a completed run directory (its final/ model) or a folder with a
 * config.json. Diagnostics at the key's value, coded `<code>-not-found`, `-no-final`, `-not-model`.
 */
export async function checkModelOrRun(
  parsed: ParsedConfig,
  fs: ConfigFs,
  configDir: string,
  resolvePath: (dir: string, p: string) => string,
  path: string[],
  what: { name: string; code: string },
): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const node = nodeAt(parsed.root, path);
  if (node?.kind !== 'scalar' || typeof node.value !== 'string' || node.value === '') return out;
  const rel = node.value;
  const dir = resolvePath(configDir, rel);
  const at = (msg: string, code: string) =>
    out.push(diag(parsed, 'error', msg, `${what.code}-${code}`, path, node.span));
  if (!(await fs.exists(dir))) at(`${what.name} '${rel}' not found.`, 'not-found');
  else if (await fs.exists(resolvePath(dir, RUN_FILES.status))) {
    if (!(await fs.exists(resolvePath(dir, `${RUN_FILES.final}/config.json`))))
      at(`${what.name} '${rel}' is a run directory without a final model (the run has not completed).`, 'no-final');
  } else if (!(await fs.exists(resolvePath(dir, 'config.json'))))
    at(`${what.name} '${rel}' has no config.json: it is neither a run directory nor a model folder.`, 'not-model');
  return out;
}

/**
 * Checks of what training.distillation and data.unlabeled name on disk: the teacher is a completed
 * run directory (its final/ model) or a model folder with a config.json, and the unlabeled file
 * exists. Each diagnostic points at the key's value. (The label sets are compared by the engine
 * when the run starts, where the student's labels are known from the data.)
 */
export async function checkDistillationFiles(
  parsed: ParsedConfig,
  fs: ConfigFs,
  configDir: string,
  resolvePath: (dir: string, p: string) => string,
): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const found = await checkModelOrRun(parsed, fs, configDir, resolvePath, ['training', 'distillation', 'teacher'], {
    name: 'Teacher',
    code: 'teacher',
  });
  out.push(...found);
  if (found.length === 0) out.push(...(await checkTeacherMatches(parsed, fs, configDir, resolvePath)));
  const unlabeledPath = ['data', 'unlabeled'];
  const unlabeled = nodeAt(parsed.root, unlabeledPath);
  if (unlabeled?.kind === 'scalar' && typeof unlabeled.value === 'string' && unlabeled.value !== '') {
    if (!(await fs.exists(resolvePath(configDir, unlabeled.value))))
      out.push(
        diag(
          parsed,
          'error',
          `Data file '${unlabeled.value}' not found.`,
          'data-not-found',
          unlabeledPath,
          unlabeled.span,
        ),
      );
  }
  return out;
}

/** The head a teacher needs for each task distillation trains (config.json `architectures[0]`). */
const TEACHER_HEADS: Record<string, string> = {
  'text-classification': 'ForSequenceClassification',
  'token-classification': 'ForTokenClassification',
};
const LABEL_HEAD_BYTES = 64 * 1024;

/**
 * The teacher (found on disk) against the config: its config.json has the task's head, and every
 * label in the first rows of data.train (64 KB) is one of its `id2label` labels. A partial check
 * that never errs: the engine compares the whole label sets when the run starts (a teacher with an
 * extra label is caught there). Labels are compared when the rows' labels are strings (numbers
 * are class ids, mapped by the engine); diagnostics at the teacher value, coded `teacher-task` and
 * `teacher-labels`.
 */
async function checkTeacherMatches(
  parsed: ParsedConfig,
  fs: ConfigFs,
  configDir: string,
  resolvePath: (dir: string, p: string) => string,
): Promise<Diagnostic[]> {
  const path = ['training', 'distillation', 'teacher'];
  const node = nodeAt(parsed.root, path);
  const task = nodeAt(parsed.root, ['task']);
  if (node?.kind !== 'scalar' || typeof node.value !== 'string' || task?.kind !== 'scalar') return [];
  const head = TEACHER_HEADS[String(task.value)];
  if (!head) return [];
  const rel = node.value;
  const dir = resolvePath(configDir, rel);
  const isRun = await fs.exists(resolvePath(dir, RUN_FILES.status));
  const configFile = resolvePath(dir, isRun ? `${RUN_FILES.final}/config.json` : 'config.json');
  let config: { architectures?: unknown; id2label?: unknown };
  try {
    config = JSON.parse((await fs.readText(configFile)) ?? '');
  } catch {
    return [];
  }
  const at = (msg: string, code: string) => [diag(parsed, 'error', msg, code, path, node.span)];
  const arch = Array.isArray(config.architectures) ? String(config.architectures[0] ?? '') : '';
  if (!arch.endsWith(head))
    return at(
      `Teacher '${rel}' is ${arch ? `a ${arch}` : 'a model without architectures'}, not a ${String(task.value)} model (*${head}): distil from a fine-tuned teacher.`,
      'teacher-task',
    );
  if (task.value !== 'text-classification' || !config.id2label || typeof config.id2label !== 'object') return [];
  const teacherLabels = Object.values(config.id2label as Record<string, unknown>).map(String);
  const train = nodeAt(parsed.root, ['data', 'train']);
  if (train?.kind !== 'scalar' || typeof train.value !== 'string' || !train.value.endsWith('.jsonl')) return [];
  const file = resolvePath(configDir, train.value);
  const raw = fs.readHead ? await fs.readHead(file, LABEL_HEAD_BYTES) : await fs.readText(file);
  if (raw === undefined) return [];
  const lines = raw.split('\n');
  // The last line may be cut at the byte count.
  if (raw.length >= LABEL_HEAD_BYTES) lines.pop();
  const columnNode = nodeAt(parsed.root, ['data', 'label_column']);
  const column =
    columnNode?.kind === 'scalar' && typeof columnNode.value === 'string'
      ? columnNode.value
      : (TASK_COLUMNS['text-classification']?.label_column ?? 'label');
  const known = new Set(teacherLabels);
  for (const row of jsonlHead(lines, Number.POSITIVE_INFINITY).objects) {
    const label = row[column];
    if (typeof label === 'string' && !known.has(label))
      return at(
        `Label '${label}' of '${train.value}' is not one of teacher '${rel}''s labels [${teacherLabels.join(', ')}] (its config.json id2label): the teacher must have the student's label set.`,
        'teacher-labels',
      );
  }
  return [];
}
