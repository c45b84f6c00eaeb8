import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { DataConfig, TaskName } from '../../shared/config.js';
import { DataError } from '../data/errors.js';
import { prepareData } from '../data/prepare.js';
import { renderReport, reportJson } from '../data/report.js';
import { type TokenCounter, whitespaceCounter } from '../data/stats.js';
import { type Command, UsageError } from './command.js';

const TASKS: readonly TaskName[] = ['text-classification', 'token-classification', 'question-answering', 'causal-lm'];

interface DataSection {
  task: TaskName;
  model: string;
  data: DataConfig;
  seed?: number;
}

/**
 * Reads just what `data stats` needs from a config file (YAML, or JSON which YAML reads too).
 * Deliberately minimal: the full config loader with schema validation replaces it.
 */
function readDataSection(file: string): DataSection {
  const doc = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown> | null;
  const data = doc?.data as DataConfig | undefined;
  const task = doc?.task as TaskName;
  if (typeof data?.train !== 'string') throw new DataError('config', `${file}: no data.train`, undefined, 'a path');
  if (!TASKS.includes(task))
    throw new DataError('config', `${file}: task is ${String(task)}`, undefined, TASKS.join(' | '));
  const seed = (doc?.training as { seed?: unknown } | undefined)?.seed;
  return { task, model: String(doc?.model ?? ''), data, ...(typeof seed === 'number' ? { seed } : {}) };
}

/** label2id from a local model folder's config.json, when it has one. */
function modelLabel2id(modelDir: string): Record<string, number> | undefined {
  const file = resolve(modelDir, 'config.json');
  if (!existsSync(file)) return undefined;
  const l2i = (JSON.parse(readFileSync(file, 'utf8')) as { label2id?: unknown }).label2id;
  return l2i !== null && typeof l2i === 'object' ? (l2i as Record<string, number>) : undefined;
}

/**
 * The token counter for the model. No tokenizer implementation is wired into this command, so it
 * counts whitespace-separated words and says so in the output (the counts are then a lower bound
 * of what a subword tokenizer gives).
 */
function tokenCounterFor(model: string): { counter: TokenCounter; name: string } {
  return {
    counter: whitespaceCounter,
    name: `whitespace-separated words: no tokenizer loaded for model '${model}', so subword counts will be higher`,
  };
}

/** The `data stats` report of a config file, as text or one JSON line; data problems throw DataError. */
export async function dataStats(configFile: string, json: boolean): Promise<string> {
  const section = readDataSection(configFile);
  const baseDir = dirname(resolve(configFile));
  const label2id = section.model ? modelLabel2id(resolve(baseDir, section.model)) : undefined;
  const prepared = await prepareData(section.data, {
    task: section.task,
    baseDir,
    ...(section.seed === undefined ? {} : { seed: section.seed }),
    ...(label2id ? { label2id } : {}),
    tokens: tokenCounterFor(section.model),
  });
  return json ? `${JSON.stringify(reportJson(prepared.report))}\n` : renderReport(prepared.report);
}

export const dataCommand: Command = {
  summary: 'check and describe the data of a config: bad rows, cleaning, duplicates, leakage, labels, lengths',
  usage: `usage: finetune data stats <config> [--json]

Loads the training and validation data named in the config's "data" section exactly as training
would (cleaning, de-duplication, validation split, label set), and prints what it found: bad rows
with their file, line and column, what cleaning changed, duplicates, texts present in both train
and validation, the label distribution and token-length percentiles against data.max_length.
Exits with status 1 and the location of the problem when the data has an error.

  --json    print the report as one JSON object instead of text
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { json: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
    const [sub, configFile, ...extra] = positionals;
    if (sub !== 'stats')
      throw new UsageError(sub === undefined ? 'missing sub-command' : `unknown sub-command '${sub}'`);
    if (configFile === undefined) throw new UsageError('missing <config>');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    try {
      process.stdout.write(await dataStats(configFile, values.json === true));
      return 0;
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      process.stderr.write(`finetune data: ${err.message}\n`);
      return 1;
    }
  },
};
