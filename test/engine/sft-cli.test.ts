import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readHfConfig } from '../../src/engine/io/hf-config.js';
import { loadPretrained } from '../../src/engine/io/pretrained.js';
import { causalLmModel } from '../../src/engine/models/decoder.js';
import { HfConfigReader } from '../../src/engine/models/hf-config.js';
import { decoderFamilyOf } from '../../src/engine/models/registry.js';
import type { LlamaLikeType } from '../fixtures/tiny-decoders.js';
import { finetune } from './helpers/cli.js';
import { readEvents } from './helpers/run-events.js';
import { writeSftWorkspace } from './helpers/sft-workspace.js';

// Issue #14's done-when: the chat-models config, verbatim, trains a tiny Llama and a tiny Qwen3
// (bfloat16 checkpoints with a real tokenizer.json) through the `finetune` command line, and the
// model it exports reloads as the same family and generates with `finetune predict`.

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Mean step loss of each epoch, in order (a step's `epoch` is fractional: epoch e's steps lie in (e-1, e]). */
function epochMeans(runDir: string): number[] {
  const byEpoch = new Map<number, number[]>();
  for (const e of readEvents(runDir)) {
    if (e.type !== 'step') continue;
    const epoch = Math.ceil(e.epoch);
    byEpoch.set(epoch, [...(byEpoch.get(epoch) ?? []), e.loss]);
  }
  return [...byEpoch].sort(([a], [b]) => a - b).map(([, losses]) => losses.reduce((s, x) => s + x, 0) / losses.length);
}

for (const type of ['llama', 'qwen3'] as const satisfies readonly LlamaLikeType[]) {
  test(`finetune train: the done-when config fine-tunes a tiny bfloat16 ${type} on prompt-completion rows`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `sft-cli-${type}-`));
    dirs.push(dir);
    const config = writeSftWorkspace(dir, type);
    const trained = await finetune(dir, 'train', config, '--threads', '1');
    assert.equal(trained.code, 0, trained.stderr);
    const runDir = /^run completed: (.+)$/m.exec(trained.stdout)?.[1];
    assert.ok(runDir, trained.stdout);

    const means = epochMeans(runDir);
    console.log(`${type}: mean step loss per epoch ${means.map((m) => m.toFixed(4)).join(' -> ')}`);
    assert.equal(means.length, 2);
    assert.ok((means[0] as number) > (means[1] as number), `epoch losses ${means.join(', ')}`);

    // final/ reloads as the family it was trained from, every tensor present under its HF name.
    const final = join(runDir, 'final');
    const source = new HfConfigReader(readHfConfig(join(dir, 'model')), 'model/config.json');
    const saved = new HfConfigReader(readHfConfig(final), 'final/config.json');
    const family = decoderFamilyOf(saved);
    assert.equal(family, decoderFamilyOf(source));
    assert.equal(saved.raw.model_type, type);
    assert.deepEqual(saved.raw.architectures, source.raw.architectures);
    const model = causalLmModel(family, { config: saved });
    const loaded = loadPretrained(final, model.params, { basePrefix: family.basePrefix });
    assert.deepEqual(loaded.missing, []);
    assert.deepEqual(loaded.reinitialized, []);

    writeFileSync(join(dir, 'prompts.jsonl'), '{"text": "the cat sees"}\n{"text": "a dog helps"}\n');
    const predicted = await finetune(
      dir,
      'predict',
      '--model',
      final,
      '--input',
      'prompts.jsonl',
      '--max-new-tokens',
      '8',
    );
    assert.equal(predicted.code, 0, predicted.stderr);
    const lines = predicted.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    for (const line of lines) {
      const { text } = JSON.parse(line) as { text: unknown };
      assert.ok(typeof text === 'string' && text.length > 0, line);
    }
    console.log(`${type}: predict ${lines.join(' ')}`);
  });
}
