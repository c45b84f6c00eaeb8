import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { predictCommand } from '../../../src/engine/commands/model-commands.js';
import { toJsonl } from '../../fixtures/datasets.js';
import type { SquadRow } from '../../fixtures/qa-datasets.js';

export interface QaPredictionLine {
  answer: string;
  score: number;
  start: number;
  end: number;
  probability: number;
}

/** `finetune predict` of a QA run on the questions and contexts of `rows` (written under dir): one parsed line each. */
export async function predictQuestions(
  dir: string,
  runDir: string,
  rows: readonly SquadRow[],
): Promise<QaPredictionLine[]> {
  const input = join(dir, 'questions.jsonl');
  writeFileSync(input, toJsonl(rows.map(({ question, context }) => ({ question, context }))));
  const out = join(dir, 'answers.jsonl');
  assert.equal(await predictCommand.run(['--model', runDir, '--input', input, '--output', out]), 0);
  return readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as QaPredictionLine);
}
