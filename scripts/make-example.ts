/**
 * Regenerates examples/sentiment/: a tiny random BERT folder (config.json, model.safetensors, a
 * WordPiece tokenizer trained on the data) and a small sentiment dataset, the bundled example
 * `npm run demo` fine-tunes. Deterministic: the committed files are what this writes.
 *   npx tsx scripts/make-example.ts
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sentimentRows, toJsonl } from '../test/fixtures/datasets.js';
import { writeTinyModel } from '../test/fixtures/tiny-models.js';

const root = join(__dirname, '..', 'examples', 'sentiment');
rmSync(join(root, 'tiny-bert'), { recursive: true, force: true });
mkdirSync(join(root, 'tiny-bert'), { recursive: true });
const train = sentimentRows(400, 11);
const validation = sentimentRows(100, 12);
writeFileSync(join(root, 'train.jsonl'), toJsonl(train));
writeFileSync(join(root, 'validation.jsonl'), toJsonl(validation));
writeTinyModel(
  join(root, 'tiny-bert'),
  'bert',
  [...train, ...validation].map((r) => r.text),
  5,
);
process.stdout.write(`wrote ${root}\n`);
