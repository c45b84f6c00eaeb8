import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TensorData } from '../../../src/engine/graph/types.js';
import { loadPretrained } from '../../../src/engine/io/pretrained.js';
import { encoderBaseSpecs } from '../../../src/engine/models/encoder.js';
import { HfConfigReader } from '../../../src/engine/models/hf-config.js';
import { encoderFamilyOf } from '../../../src/engine/models/registry.js';
import { type FamilyName, tinyConfig } from '../../fixtures/tiny-configs.js';

/**
 * training.init: scratch draws every weight as transformers' `_init_weights` does
 * (BertPreTrainedModel._init_weights, modeling_bert.py; RoBERTa's, ALBERT's, DistilBERT's and
 * ELECTRA's are the same): Linear weights and embeddings normal(0, initializer_range), biases zero,
 * the padding_idx row of an embedding zero, LayerNorm weight one and bias zero.
 */
const STD = 0.05;

function scratchFolder(family: FamilyName, extra: Record<string, unknown> = {}): { dir: string; cfg: HfConfigReader } {
  const dir = mkdtempSync(join(tmpdir(), 'scratch-init-'));
  // A vocabulary and width big enough for the sample statistics to be tight (3000 x 32 draws).
  const config = tinyConfig(family, 3000, { initializer_range: STD, ...extra });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return { dir, cfg: new HfConfigReader(config, join(dir, 'config.json')) };
}

function stats(t: TensorData, skipRow?: number): { mean: number; std: number; n: number } {
  const v = t.data as Float32Array;
  const width = t.dims[1] ?? 1;
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    if (skipRow !== undefined && Math.floor(i / width) === skipRow) continue;
    sum += v[i] as number;
    sq += (v[i] as number) ** 2;
    n++;
  }
  const mean = sum / n;
  return { mean, std: Math.sqrt(sq / n - mean * mean), n };
}

const rowOf = (t: TensorData, row: number): number[] => {
  const width = t.dims[1] as number;
  return [...(t.data as Float32Array).slice(row * width, (row + 1) * width)];
};

test('init scratch: normal(0, initializer_range) matrices, zero padding row, zero biases, LayerNorm ones', () => {
  const { dir, cfg } = scratchFolder('bert', { pad_token_id: 3 });
  try {
    const specs = encoderBaseSpecs(encoderFamilyOf(cfg).arch(cfg));
    const loaded = loadPretrained(dir, specs, { init: 'scratch', seed: 7 });
    const word = loaded.weights.get('bert.embeddings.word_embeddings.weight') as TensorData;
    const s = stats(word, 3);
    // Sample mean of n normal(0, σ) draws: sd σ/√n; sample sd: sd ≈ σ/√(2n). 5 sd of slack each.
    assert.ok(Math.abs(s.mean) < (5 * STD) / Math.sqrt(s.n), `mean ${s.mean}`);
    assert.ok(Math.abs(s.std - STD) < (5 * STD) / Math.sqrt(2 * s.n), `std ${s.std}`);
    assert.deepEqual(rowOf(word, 3), new Array(32).fill(0), 'the pad_token_id row is zero');
    assert.ok(
      rowOf(word, 0).some((x) => x !== 0),
      'other rows are drawn',
    );
    const query = stats(loaded.weights.get('bert.encoder.layer.0.attention.self.query.weight') as TensorData);
    assert.ok(Math.abs(query.std - STD) < (5 * STD) / Math.sqrt(2 * query.n), `query std ${query.std}`);
    for (const [name, t] of loaded.weights) {
      const v = [...(t.data as Float32Array)];
      if (name.endsWith('LayerNorm.weight'))
        assert.ok(
          v.every((x) => x === 1),
          `${name} is ones`,
        );
      else if (name.endsWith('.bias'))
        assert.ok(
          v.every((x) => x === 0),
          `${name} is zeros`,
        );
    }
    assert.equal(loaded.missing.length, specs.length, 'every parameter is initialised');
    // Reproducible from the seed.
    const again = loadPretrained(dir, specs, { init: 'scratch', seed: 7 });
    assert.deepEqual(again.weights.get('bert.embeddings.word_embeddings.weight')?.data, word.data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("init scratch: RoBERTa's word and position embeddings both zero their padding_idx row", () => {
  const { dir, cfg } = scratchFolder('roberta', { pad_token_id: 1 });
  try {
    const loaded = loadPretrained(dir, encoderBaseSpecs(encoderFamilyOf(cfg).arch(cfg)), { init: 'scratch' });
    for (const name of ['roberta.embeddings.word_embeddings.weight', 'roberta.embeddings.position_embeddings.weight']) {
      const t = loaded.weights.get(name) as TensorData;
      assert.deepEqual(rowOf(t, 1), new Array(32).fill(0), name);
      assert.ok(
        rowOf(t, 2).some((x) => x !== 0),
        name,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a folder without weights and without init scratch is an error naming the folder and the key', () => {
  const { dir, cfg } = scratchFolder('bert');
  try {
    const specs = encoderBaseSpecs(encoderFamilyOf(cfg).arch(cfg));
    assert.throws(
      () => loadPretrained(dir, specs),
      (e: Error) =>
        e.message.includes(dir) && e.message.includes('no weights') && e.message.includes('training.init: scratch'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
