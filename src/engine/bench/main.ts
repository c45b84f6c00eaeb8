import { parseArgs } from 'node:util';
import { dataSuite } from './data.js';
import { ngramSuite } from './ngram.js';
import type { BenchSuite } from './suite.js';
import { trainStepSuite } from './train-step.js';

/**
 * `npm run bench [-- --only <suite>]`: speed and memory figures, printed, never asserted (targets
 * are read by people from the printed numbers). Each suite prints a table; the JSON lines of all
 * suites come last, one object per case.
 */
const SUITES: readonly BenchSuite[] = [trainStepSuite, dataSuite, ngramSuite];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' } }, strict: true });
  const selected = values.only ? SUITES.filter((s) => s.name === values.only) : SUITES;
  if (selected.length === 0) {
    throw new Error(`--only: no suite named '${values.only}' (suites: ${SUITES.map((s) => s.name).join(', ')})`);
  }
  const lines: Record<string, unknown>[] = [];
  for (const suite of selected) {
    process.stdout.write(`\n== ${suite.name}: ${suite.summary}\n`);
    lines.push(...(await suite.run((line) => process.stdout.write(`${line}\n`))));
  }
  process.stdout.write('\n');
  for (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
