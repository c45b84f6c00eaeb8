import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  appendAllOrNothing,
  overwriteInPlace,
  writeDirAtomic,
  writeFileAtomic,
  writeTextAtomic,
} from '../../../src/engine/io/atomic.js';
import { StorageError, storageError } from '../../../src/engine/io/storage-errors.js';
import { RunDirectory } from '../../../src/engine/train/run-dir.js';
import { failureReason, recordFailure } from '../../../src/engine/train/run-failure.js';
import type { RunStatus } from '../../../src/shared/run-directory.js';
import { fillDisk, smallDisk } from '../helpers/small-disk.js';

const errno = (code: string, message = `${code}: injected`) => Object.assign(new Error(message), { code });

test('storage failures map to "<what> while writing <file>"; other errors pass through unchanged', () => {
  const mapped = storageError(errno('ENOSPC'), '/runs/a/status.json');
  assert.ok(mapped instanceof StorageError);
  assert.equal(mapped.message, 'disk full while writing /runs/a/status.json');
  assert.equal((storageError(errno('EIO'), 'f') as Error).message, 'I/O error while writing f');
  assert.equal((storageError(errno('EDQUOT'), 'f') as Error).message, 'disk quota exceeded while writing f');
  const other = errno('EACCES');
  assert.equal(storageError(other, 'f'), other);
  const plain = new Error('not fs');
  assert.equal(storageError(plain, 'f'), plain);
  // An error mapped further down keeps its more precise file.
  assert.equal(storageError(mapped, '/runs/a'), mapped);
});

test('an I/O error inside an atomic write: the target keeps its content, the temporary file is gone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
  const target = join(dir, 'status.json');
  writeFileSync(target, 'good');
  assert.throws(
    () =>
      writeFileAtomic(target, (fd) => {
        writeFileSync(fd, 'half');
        throw errno('EIO');
      }),
    (err: Error) => err instanceof StorageError && err.message === `I/O error while writing ${target}`,
  );
  assert.equal(readFileSync(target, 'utf8'), 'good');
  assert.deepEqual(readdirSync(dir), ['status.json']);
});

test('an I/O error inside writeDirAtomic: the folder keeps its content, the error names the final path of the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
  const target = join(dir, 'step-4');
  mkdirSync(target);
  writeFileSync(join(target, 'model.safetensors'), 'good');
  assert.throws(
    () =>
      writeDirAtomic(target, (tmp) =>
        writeFileAtomic(join(tmp, 'model.safetensors'), () => {
          throw errno('EIO');
        }),
      ),
    (err: Error) => err.message === `I/O error while writing ${join(target, 'model.safetensors')}`,
  );
  assert.equal(readFileSync(join(target, 'model.safetensors'), 'utf8'), 'good');
  assert.deepEqual(readdirSync(dir), ['step-4']);
  // A success replaces the folder whole.
  writeDirAtomic(target, (tmp) => writeTextAtomic(join(tmp, 'other'), 'new'));
  assert.deepEqual(readdirSync(target), ['other']);
  assert.deepEqual(readdirSync(dir), ['step-4']);
});

test('on a full disk: an atomic write fails naming the file, leaving the old content and no temporary file', (t) => {
  const disk = smallDisk(t);
  if (!disk) return;
  const target = join(disk, 'status.json');
  writeFileSync(target, 'good');
  fillDisk(disk);
  assert.throws(
    () => writeTextAtomic(target, 'x'.repeat(10_000)),
    (err: Error) => err instanceof StorageError && err.message === `disk full while writing ${target}`,
  );
  assert.equal(readFileSync(target, 'utf8'), 'good');
  assert.deepEqual(
    readdirSync(disk).filter((n) => !n.startsWith('filler')),
    ['status.json'],
  );
});

test('on a full disk: a line that only partly fits is not appended at all (no half line)', (t) => {
  const disk = smallDisk(t);
  if (!disk) return;
  const file = join(disk, 'events.jsonl');
  writeFileSync(file, '{"a":1}\n');
  fillDisk(disk);
  // The file's one page has room for about 4 KB more: the first part of this line gets written.
  const line = `${JSON.stringify({ message: 'y'.repeat(10_000) })}\n`;
  assert.throws(
    () => appendAllOrNothing(file, line),
    (err: Error) => err.message === `disk full while writing ${file}`,
  );
  assert.equal(readFileSync(file, 'utf8'), '{"a":1}\n');
  // What fits still goes in, whole.
  appendAllOrNothing(file, '{"b":2}\n');
  assert.equal(readFileSync(file, 'utf8'), '{"a":1}\n{"b":2}\n');
});

test('on a full disk: writeDirAtomic leaves the previous folder and no temporary folder', (t) => {
  const disk = smallDisk(t);
  if (!disk) return;
  const target = join(disk, 'step-4');
  writeDirAtomic(target, (tmp) => writeTextAtomic(join(tmp, 'model.safetensors'), 'good'));
  fillDisk(disk, 8192);
  assert.throws(
    () =>
      writeDirAtomic(target, (tmp) =>
        writeFileAtomic(join(tmp, 'model.safetensors'), (fd) => writeFileSync(fd, Buffer.alloc(100_000))),
      ),
    (err: Error) => err.message === `disk full while writing ${join(target, 'model.safetensors')}`,
  );
  assert.equal(readFileSync(join(target, 'model.safetensors'), 'utf8'), 'good');
  assert.deepEqual(
    readdirSync(disk).filter((n) => !n.startsWith('filler')),
    ['step-4'],
  );
});

test('on a full disk: a failed run still records failed and its reason in status.json (rewritten in place)', (t) => {
  const disk = smallDisk(t);
  if (!disk) return;
  const run = new RunDirectory(join(disk, 'run'), { totalSteps: 10 });
  run.setState('running');
  fillDisk(disk);
  let thrown: unknown;
  try {
    run.updateStatus({ step: 3 });
  } catch (err) {
    thrown = err;
  }
  const reason = failureReason(thrown, run);
  assert.equal(
    reason,
    'disk full while writing status.json (ENOSPC). No checkpoint was saved before it: free some space, then start the run again.',
  );
  recordFailure(run, reason);
  const status = JSON.parse(readFileSync(run.file('status.json'), 'utf8')) as RunStatus;
  assert.equal(status.state, 'failed');
  assert.equal(status.reason, reason);
  assert.equal(status.step, 3);
  assert.deepEqual(readdirSync(run.path).sort(), ['checkpoints', 'engine.log', 'events.jsonl', 'status.json']);
});

test('overwriteInPlace writes a shorter or longer text whole', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'atomic-')), 'status.json');
  overwriteInPlace(file, 'a longer first text');
  overwriteInPlace(file, 'short');
  assert.equal(readFileSync(file, 'utf8'), 'short');
  overwriteInPlace(file, 'longer than before');
  assert.equal(readFileSync(file, 'utf8'), 'longer than before');
});
