import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { Example } from '../../src/engine/data/records.js';
import type { TensorData } from '../../src/engine/graph/types.js';
import { readHfConfig } from '../../src/engine/io/hf-config.js';
import { gpt2Arch } from '../../src/engine/models/gpt2/model.js';
import { HfConfigReader } from '../../src/engine/models/hf-config.js';
import { collateStep, collateWeighted, predictedTokens } from '../../src/engine/tasks/causal-lm/batches.js';
import { type CausalLmRecipe, causalLmRecipe, type LmExample } from '../../src/engine/tasks/causal-lm/recipe.js';
import { Tokenizer } from '../../src/engine/tokenize/index.js';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import { StepRunner } from '../../src/engine/train/step-runner.js';
import { applyDefaults } from '../../src/shared/config-validate.js';
import { writeChatGpt2 } from '../fixtures/chat.js';
import { toJsonl } from '../fixtures/datasets.js';
import { GPT2_FIXTURE_SENTENCES } from '../fixtures/tiny-gpt2.js';
import { referenceLogits } from './helpers/gpt2-reference.js';
import { lossByStep, readEvents } from './helpers/run-events.js';

let dir: string;
let recipe: CausalLmRecipe;
const source = { file: 'sft.jsonl', line: 1 };

/** Conversations of different lengths, so their micro-batches hold different numbers of label tokens. */
const CONVERSATIONS = [
  [
    ['the cat', 'sees the ball every day'],
    ['a dog', 'helps'],
  ],
  [['my friend', 'calls']],
  [['the bird', 'finds the garden at night and the river in the morning']],
  [
    ['the teacher', 'likes a book'],
    ['our neighbour', 'sees the river'],
  ],
];

const rows = CONVERSATIONS.map((turns) => ({
  messages: turns.flatMap(([user, reply]) => [
    { role: 'user', content: user as string },
    { role: 'assistant', content: reply as string },
  ]),
}));

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sft-training-'));
  mkdirSync(join(dir, 'model'));
  writeChatGpt2(join(dir, 'model'), GPT2_FIXTURE_SENTENCES, { config: { n_positions: 128, n_ctx: 128 } });
  recipe = causalLmRecipe({
    config: applyDefaults({ model: dir, task: 'causal-lm', data: { train: 'x' } }),
    modelDir: join(dir, 'model'),
    tokenizer: Tokenizer.fromFolder(join(dir, 'model')),
    labelSet: undefined,
    seed: 0,
  });
});

const chats = (): Example[] => rows.map((r) => ({ kind: 'chat', messages: r.messages, source }));

async function runner(accumulation: number): Promise<StepRunner> {
  return StepRunner.create({
    model: recipe.model,
    weights: new Map(recipe.weights),
    trainable: new Set(recipe.model.params.map((p) => p.name)),
    // SGD: the update is the gradient itself. AdamW's first step, m/√v, turns gradients at float
    // noise level (a padded position's) into ±lr, which would compare the noise, not the sums.
    optimizer: { kind: 'sgd', weightDecay: 0.01 },
    maxGradNorm: 1,
    gradientAccumulationSteps: accumulation,
    device: 'cpu',
    threads: 1,
  });
}

test('accumulation 2 × B equals one batch of 2B: the step loss and the updated weights', async () => {
  const examples = recipe.encode(chats());
  const micro = [examples.slice(0, 2), examples.slice(2, 4)];
  const counts = micro.map((m) => m.reduce((n, e) => n + predictedTokens(e), 0));
  assert.notEqual(counts[0], counts[1], `label tokens per micro-batch ${counts}`);

  const accumulated = await runner(2);
  const [a, b] = collateStep(micro, recipe.padId, 2);
  const first = await accumulated.step(a as never, 1e-1);
  const second = await accumulated.step(b as never, 1e-1);
  assert.equal(first.updated, false);
  assert.equal(second.updated, true);
  const whole = await runner(1);
  const one = await whole.step(collateWeighted(examples, recipe.padId), 1e-1);
  // The trainer's step loss under collateStep: the micro-batch losses summed over k.
  const stepLoss = (first.loss + second.loss) / 2;
  assert.ok(Math.abs(stepLoss - one.loss) < 1e-5, `loss ${stepLoss} vs ${one.loss}`);
  assert.ok(Math.abs((second.gradNorm as number) - (one.gradNorm as number)) < 1e-5);
  let worst = 0;
  const wa = accumulated.weights();
  for (const [name, t] of whole.weights()) {
    const x = t.data as Float32Array;
    const y = (wa.get(name) as TensorData).data as Float32Array;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs((x[i] as number) - (y[i] as number)));
  }
  assert.ok(worst < 1e-5, `largest weight difference ${worst}`);
  // The old semantics (the mean of the micro-batch means) differ here, so the test can tell them apart.
  const [n0, n1] = counts as [number, number];
  const meanOfMeans = ((first.loss * (n0 + n1)) / (2 * n0) + (second.loss * (n0 + n1)) / (2 * n1)) / 2;
  assert.ok(Math.abs(meanOfMeans - one.loss) > 1e-3, `mean of micro-batch means ${meanOfMeans}`);
  await accumulated.dispose();
  await whole.dispose();
});

test('messages end to end: step 1 loss is the mean NLL over the assistant tokens only, and the loss drops', async () => {
  writeFileSync(join(dir, 'chat.jsonl'), toJsonl(rows));
  writeFileSync(
    join(dir, 'chat.finetune.yaml'),
    `model: ./model
task: causal-lm
data: {train: chat.jsonl, max_length: 128, shuffle: false}
training: {epochs: 12, batch_size: 2, gradient_accumulation_steps: 2, learning_rate: 1.0e-2, warmup_ratio: 0, seed: 1}
device: cpu
`,
  );
  const runDir = join(dir, 'run');
  const { outcome } = await trainFromConfig(join(dir, 'chat.finetune.yaml'), runDir, { threads: 1 });
  assert.equal(outcome, 'completed');
  const losses = [...lossByStep(readEvents(runDir)).values()];
  assert.equal(losses.length, 12);

  // By hand, with the initial weights in plain loops: Σ −log p over the tokens the mask keeps,
  // over their count, across all four conversations (one optimizer step of 2 × 2).
  const arch = gpt2Arch(new HfConfigReader(readHfConfig(join(dir, 'model')), 'config.json'));
  let nll = 0;
  let tokens = 0;
  for (const e of recipe.encode(chats()) as LmExample[]) {
    const logits = referenceLogits(arch, recipe.weights, e.inputIds);
    for (let t = 1; t < e.inputIds.length; t++) {
      if (e.lossMask?.[t] !== 1) continue;
      const row = logits[t - 1] as number[];
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      nll += lse - (row[e.inputIds[t] as number] as number);
      tokens++;
    }
  }
  assert.ok(tokens > 0 && tokens < recipe.encode(chats()).reduce((n, e) => n + e.inputIds.length - 1, 0));
  const hand = nll / tokens;
  assert.ok(Math.abs((losses[0] as number) - hand) < 1e-4, `step 1 loss ${losses[0]} vs ${hand} by hand`);
  assert.ok((losses.at(-1) as number) < (losses[0] as number) / 2, `loss ${losses[0]} -> ${losses.at(-1)}`);
  const report = JSON.parse(readFileSync(join(runDir, 'data-report.json'), 'utf8')) as { layout?: string };
  assert.equal(report.layout, 'messages');
});
