import type { ConfigFs } from './config-files.js';
import { diag } from './config-schema-check.js';
import { type Diagnostic, nodeAt, type ParsedConfig } from './config-tree.js';
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
  out.push(
    ...(await checkModelOrRun(parsed, fs, configDir, resolvePath, ['training', 'distillation', 'teacher'], {
      name: 'Teacher',
      code: 'teacher',
    })),
  );
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
