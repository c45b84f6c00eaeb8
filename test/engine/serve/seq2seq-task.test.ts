import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { seq2seqTaskOf } from '../../../src/engine/inference/seq2seq-predict.js';

// What predict and serve's /predict read of a seq2seq folder that is not a run's final/ (the
// pipeline itself: seq2seq-predict.test.ts).

test("a bare folder's task and prefix come from config.json's finetuning_task and prefix (an export's)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'seq2seq-task-'));
  try {
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ model_type: 't5', finetuning_task: 'summarization', prefix: 'summarize: ' }),
    );
    assert.deepEqual(seq2seqTaskOf(dir), { task: 'summarization', prefix: 'summarize: ' });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 't5' }));
    assert.deepEqual(seq2seqTaskOf(dir), { task: 'translation', prefix: '' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
