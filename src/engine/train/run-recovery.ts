import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, rmSync, truncateSync } from 'node:fs';
import { join, relative } from 'node:path';
import { RUN_FILES } from '../../shared/run-directory.js';
import { verifyCheckpoint } from './checkpoint-state.js';
import type { RunDirectory } from './run-dir.js';

/**
 * Getting a run directory that an engine left at an arbitrary moment (killed, crashed, out of
 * power) ready to go on: `finetune resume` continues from the newest sound checkpoint, from step 0
 * when there is none, and the folder is tidied of what the interrupted writes left behind.
 */

/**
 * Folders and files of the engine's writes that were interrupted (io/atomic.ts):
 * `checkpoints/step-N.tmp-<pid>/` and `final.tmp-<pid>/` (folders built, then renamed into place),
 * the same with `.deleted` (folders renamed aside, then deleted), `.<name>.<pid>-<hex>.tmp` (files
 * written, then renamed). The pid is the writer's. Only these: the extension writes temporaries of
 * its own into run directories (`status.json.tmp-<pid>` of a queued run), which are not ours to take.
 */
const TEMPORARY = [/^(?:step-\d+|final)(?:\.deleted)?\.tmp-(\d+)$/, /^\..+\.(\d+)-[0-9a-f]+\.tmp$/];

/** Whether a process of that pid is running (a pid reused since only keeps a temporary longer). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporaries of processes that are gone from the run directory and its checkpoints
 * folder; returns their paths, relative to the run directory. A running writer (this process, or
 * another engine on the run) may be in the middle of writing its own.
 */
export function removeStaleTemporaries(runDir: string, log?: (line: string) => void): string[] {
  const removed: string[] = [];
  for (const folder of [runDir, join(runDir, RUN_FILES.checkpoints)]) {
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder)) {
      const pid = TEMPORARY.map((re) => re.exec(name)?.[1]).find((p) => p !== undefined);
      if (pid === undefined || alive(Number(pid))) continue;
      rmSync(join(folder, name), { recursive: true, force: true });
      removed.push(relative(runDir, join(folder, name)));
    }
  }
  if (removed.length > 0) log?.(`removed what interrupted writes left behind: ${removed.join(', ')}`);
  return removed;
}

/**
 * Cuts a partial last line (an event whose append was cut short) off events.jsonl, so the events a
 * resumed run appends start on a line of their own; returns the bytes removed.
 */
export function repairEventsTail(runDir: string): number {
  const path = join(runDir, RUN_FILES.events);
  if (!existsSync(path)) return 0;
  const fd = openSync(path, 'r');
  let keep = 0;
  let size = 0;
  try {
    size = fstatSync(fd).size;
    // Backwards in chunks to the last newline: the file can be long, its last line is short.
    const chunk = Buffer.allocUnsafe(64 * 1024);
    for (let end = size; end > 0 && keep === 0; ) {
      const start = Math.max(0, end - chunk.length);
      const n = readSync(fd, chunk, 0, end - start, start);
      const at = chunk.subarray(0, n).lastIndexOf(0x0a);
      if (at >= 0) keep = start + at + 1;
      end = start;
    }
  } finally {
    closeSync(fd);
  }
  if (keep < size) truncateSync(path, keep);
  return size - keep;
}

/**
 * Prepares a run directory for `finetune resume` and picks the checkpoint to resume from: the
 * newest one whose files match the digests of its trainer_state.json, with a warning naming the
 * damaged file of each newer one; undefined (start over from step 0, said in the log) when there
 * is none.
 */
export function prepareResume(run: RunDirectory): string | undefined {
  // First: the log lines below are events too, and must not be glued to a partial line.
  const cut = repairEventsTail(run.path);
  if (cut > 0)
    run.log('warn', `${RUN_FILES.events}: removed a partial last line (${cut} bytes) of an interrupted write`);
  removeStaleTemporaries(run.path, (line) => run.log('info', line));
  const steps = run.checkpointSteps();
  for (let i = steps.length - 1; i >= 0; i--) {
    const dir = run.checkpointPath(steps[i] as number);
    const damage = verifyCheckpoint(dir);
    if (!damage) return dir;
    const previous = i > 0 ? `falling back to the previous checkpoint, step ${steps[i - 1]}` : 'no earlier checkpoint';
    run.log('warn', `checkpoint damaged: ${relative(run.path, join(dir, damage.file))} ${damage.problem}; ${previous}`);
  }
  run.log(
    'warn',
    steps.length === 0
      ? 'no checkpoint to resume from (the run stopped before its first one): resuming from step 0'
      : 'no sound checkpoint to resume from: resuming from step 0',
  );
  return undefined;
}
