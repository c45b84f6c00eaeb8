import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { EvalSample, RunStatus } from '../../src/shared/run-directory.js';
import { toJsonl } from '../fixtures/datasets.js';
import { toyPairs, writeTinyT5 } from '../fixtures/tiny-t5.js';
import { finetune as finetuneIn } from './helpers/cli.js';
import { readEvents } from './helpers/run-events.js';

// Issue #16's done-when through the command line: `finetune train` with task translation on a tiny
// T5 folder, evaluating by generation (eval.generate: BLEU and chrF on held-out sentences of the toy
// language pair, with sample translations in events.jsonl), then `finetune predict --num-beams 4`
// on the held-out sources and `finetune score --metric bleu` on its output.

const dir = mkdtempSync(join(tmpdir(), 't5-translate-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const finetune = (...args: string[]) => finetuneIn(dir, ...args);

const train = toyPairs(600, 1);
const seen = new Set(train.map((p) => p.source));
// Held out: sentences the training rows never contain.
const heldOut = toyPairs(200, 2)
  .filter((p) => !seen.has(p.source))
  .slice(0, 24);

test('finetune train (eval.generate) -> predict --num-beams 4 -> score --metric bleu: BLEU > 90 on held-out sentences', async () => {
  assert.equal(heldOut.length, 24);
  mkdirSync(join(dir, 't5-tiny'));
  // t5-small's 32 buckets up to distance 128: 8 exact positions each way, which reversing needs.
  writeTinyT5(join(dir, 't5-tiny'), {
    seed: 2,
    config: {
      d_model: 32,
      d_ff: 64,
      d_kv: 8,
      relative_attention_num_buckets: 32,
      relative_attention_max_distance: 128,
    },
  });
  const rows = (pairs: { source: string; target: string }[]) => pairs.map((p) => ({ en: p.source, toy: p.target }));
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(rows(train)));
  writeFileSync(join(dir, 'heldout.jsonl'), toJsonl(rows(heldOut)));
  writeFileSync(
    join(dir, 'translate.finetune.yaml'),
    `model: ./t5-tiny
task: translation
data:
  train: train.jsonl
  validation: heldout.jsonl
  source_column: en
  target_column: toy
  source_prefix: 'translate: '
  max_source_length: 16
  max_target_length: 8
training:
  epochs: 20
  batch_size: 8
  learning_rate: 5.0e-3
  warmup_steps: 5
  dropout: 0.0
eval:
  every: 150
  generate: true
  num_beams: 2
  metrics: [bleu, chrf]
device: cpu
`,
  );
  const trained = await finetune('train', 'translate.finetune.yaml', '--threads', '1');
  assert.equal(trained.code, 0, trained.stderr);
  const runDir = /^run completed: (.+)$/m.exec(trained.stdout)?.[1] as string;
  assert.ok(runDir, trained.stdout);

  const events = readEvents(runDir);
  const evals = events.flatMap((e) => (e.type === 'eval' ? [e] : []));
  const samples = events.flatMap((e) => (e.type === 'samples' ? [e] : []));
  assert.ok(evals.length >= 4, JSON.stringify(evals));
  for (const e of evals) assert.deepEqual(Object.keys(e.metrics).sort(), ['bleu', 'chrf', 'loss']);
  const bleus = evals.map((e) => e.metrics.bleu as number);
  process.stdout.write(`# eval BLEU on held-out sentences: ${bleus.map((b) => b.toFixed(1)).join(' -> ')}\n`);
  assert.ok((bleus.at(-1) as number) > 90, `final eval BLEU ${bleus.at(-1)}`);
  assert.ok((bleus[0] as number) < (bleus.at(-1) as number));
  // One samples event per evaluation, at its step: the first 8 held-out rows, the same each time.
  assert.deepEqual(
    samples.map((s) => s.step),
    evals.map((e) => e.step),
  );
  const expectedRows = heldOut.slice(0, 8).map((p) => ({ source: p.source, reference: p.target }));
  for (const s of samples) {
    assert.deepEqual(
      s.samples.map(({ source, reference }: EvalSample) => ({ source, reference })),
      expectedRows,
    );
    assert.ok(s.samples.every((x: EvalSample) => typeof x.prediction === 'string'));
  }
  const last = samples.at(-1)?.samples as EvalSample[];
  process.stdout.write(`# last samples: ${last.map((s) => `${s.source} => ${s.prediction}`).join(' | ')}\n`);
  // eval.metrics[0] (bleu) picks the best checkpoint, which final/ holds.
  const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as RunStatus;
  assert.equal(status.best?.metric, 'bleu');

  writeFileSync(join(dir, 'sources.jsonl'), toJsonl(heldOut.map((p) => ({ text: p.source }))));
  writeFileSync(join(dir, 'references.txt'), `${heldOut.map((p) => p.target).join('\n')}\n`);
  const predictAndScore = async (beams: string) => {
    const out = join(dir, `predicted-${beams}.jsonl`);
    const predicted = await finetune(
      'predict',
      '--model',
      runDir,
      '--input',
      'sources.jsonl',
      '--output',
      out,
      '--num-beams',
      beams,
    );
    assert.equal(predicted.code, 0, predicted.stderr);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { translation_text: string; finish_reason: string });
    assert.equal(lines.length, heldOut.length);
    writeFileSync(join(dir, `hyp-${beams}.txt`), `${lines.map((l) => l.translation_text).join('\n')}\n`);
    const scored = await finetune(
      'score',
      '--metric',
      'bleu',
      '--predictions',
      `hyp-${beams}.txt`,
      '--references',
      'references.txt',
    );
    assert.equal(scored.code, 0, scored.stderr);
    return JSON.parse(scored.stdout) as { score: number; signature: string };
  };
  const beam4 = await predictAndScore('4');
  process.stdout.write(`# finetune predict --num-beams 4, finetune score --metric bleu: ${beam4.score.toFixed(2)}\n`);
  assert.ok(beam4.score > 90, `BLEU ${beam4.score}`);
  assert.match(beam4.signature, /^nrefs:1\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|version:2\.6\.0$/);
  // The evaluation's search (2 beams) over final/ (the best checkpoint) scores what the run reported.
  const beam2 = await predictAndScore('2');
  assert.ok(Math.abs(beam2.score - (status.best?.value as number)) < 1e-9, `${beam2.score} vs ${status.best?.value}`);
});
