/**
 * Writes the tiny Llama-like folders that test/engine/llama-torch.test.ts builds, for
 * bench/torch/llama_reference.py to compute the same numbers in PyTorch:
 *
 *   npx tsx bench/torch/write-decoder-fixtures.ts /tmp/decoders
 *   /usr/bin/python3 bench/torch/llama_reference.py /tmp/decoders
 *
 * Each folder is `<dir>/<name>/` with the model and `batch.json` (the test's fixed batch).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REFERENCE_FIXTURES, referenceBatch, writeTinyDecoder } from '../../test/fixtures/tiny-decoders.js';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: write-decoder-fixtures.ts <output dir>\n');
  process.exit(2);
}
for (const [name, fixture] of Object.entries(REFERENCE_FIXTURES)) {
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });
  const config = writeTinyDecoder(dir, fixture.type, fixture.options);
  writeFileSync(join(dir, 'batch.json'), JSON.stringify(referenceBatch(config.vocab_size as number)));
  process.stdout.write(`${dir}\n`);
}
