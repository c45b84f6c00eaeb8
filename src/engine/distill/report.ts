import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { folderParameters } from '../../shared/node/safetensors-header.js';
import {
  DISTILLATION_REPORT_FILE,
  type DistillationReport,
  type DistillationSide,
  RUN_FILES,
} from '../../shared/run-directory.js';
import { modelFolderOf } from '../inference/finetuned-model.js';
import { measureSequenceLatency } from '../inference/latency.js';
import { writeTextAtomic } from '../io/atomic.js';

/** Training rows timed per model: enough for a stable median, a few seconds at most for small models. */
const TIMED_EXAMPLES = 50;

/** A folder's metrics.json when it is a run's final/ folder (numbers only), else none. */
function finalMetrics(folder: string): Record<string, number> {
  const file = join(folder, 'metrics.json');
  if (basename(folder) !== RUN_FILES.final || !existsSync(file)) return {};
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, number] => typeof e[1] === 'number'));
  } catch {
    return {};
  }
}

async function side(
  folder: string,
  sequences: readonly { inputIds: number[]; tokenTypeIds: number[] }[],
  threads: number,
): Promise<DistillationSide> {
  const parameters = await folderParameters(folder);
  if (parameters === undefined) throw new Error(`${folder}: no readable safetensors weights to count`);
  const out: DistillationSide = { path: folder, metrics: finalMetrics(folder), parameters };
  if (existsSync(join(folder, 'model.onnx')))
    out.latencyMs = (await measureSequenceLatency(folder, sequences, threads)).median_ms;
  return out;
}

/**
 * final/distillation.json (run-directory.ts, DistillationReport) of a distillation run whose
 * final/ folder is written: the teacher's and the student's metrics, parameter counts and batch-1
 * latency of their model.onnx over the same first training rows, for the run panel.
 */
export async function writeDistillationReport(
  finalDir: string,
  teacher: string,
  examples: readonly { inputIds: number[]; tokenTypeIds: number[] }[],
  threads = 1,
): Promise<DistillationReport> {
  const sequences = examples.slice(0, TIMED_EXAMPLES);
  const report: DistillationReport = {
    teacher: await side(modelFolderOf(teacher), sequences, threads),
    student: await side(finalDir, sequences, threads),
    latency: { examples: sequences.length, threads },
  };
  writeTextAtomic(join(finalDir, DISTILLATION_REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
