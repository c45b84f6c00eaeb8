import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bertConfig } from './serve-models.js';
import { repoRoot } from './torch-ref.js';

/**
 * The product's command line as the corpus suites (`pretrain`, `distill`) drive it: as a user
 * would, through dist/cli.js in a work folder.
 */

/** `node dist/cli.js ...args` in `cwd`: its output lines go to `log` (indented), its last line is returned. */
export function cli(args: readonly string[], cwd: string, log: (line: string) => void): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'cli.js'), ...args], { cwd });
    let out = '';
    let err = '';
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) log(`    | ${line}`);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => {
      if (code === 0) ok(out.trim().split('\n').pop() ?? '');
      else fail(new Error(`finetune ${args.join(' ')} exited with ${code}: ${err.trim() || out.trim()}`));
    });
  });
}

/** `finetune tokenizer train` (WordPiece) on a JSON-lines file's `text` column into `<cwd>/<out>`; its vocabulary size. */
export async function trainWordPiece(
  cwd: string,
  input: string,
  out: string,
  vocabSize: number,
  log: (line: string) => void,
): Promise<number> {
  const args = ['--type', 'wordpiece', '--vocab-size', String(vocabSize), '--input', input, '--text-column', 'text'];
  await cli(['tokenizer', 'train', ...args, '--out', out], cwd, log);
  return readFileSync(join(cwd, out, 'vocab.txt'), 'utf8')
    .trimEnd()
    .split('\n').length;
}

/** A BERT model folder with no weights (for `init: scratch`): `shape`'s config.json and the tokenizer in `tokenizerDir`. */
export function scratchBert(
  dir: string,
  tokenizerDir: string,
  shape: { vocab: number; hidden: number; layers: number; heads: number; intermediate: number },
): void {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(tokenizerDir)) copyFileSync(join(tokenizerDir, f), join(dir, f));
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(bertConfig(shape), null, 2)}\n`);
}

/** `finetune evaluate --model <run> --data <file>`: its accuracy. */
export async function evaluateAccuracy(
  cwd: string,
  run: string,
  data: string,
  log: (line: string) => void,
): Promise<number> {
  const line = await cli(['evaluate', '--model', run, '--data', data], cwd, log);
  const accuracy = (JSON.parse(line) as { accuracy?: unknown }).accuracy;
  if (typeof accuracy !== 'number') throw new Error(`finetune evaluate --model ${run}: no accuracy in '${line}'`);
  return accuracy;
}
