import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_MODEL_JSON_BYTES } from '../../shared/limits.js';
import { DataError } from '../data/errors.js';
import { prepareData } from '../data/prepare.js';
import { renderReport, reportJson } from '../data/report.js';
import { type TokenCounter, whitespaceCounter } from '../data/stats.js';
import { resolveModel } from '../io/hub-download.js';
import { TASKS } from '../tasks/registry.js';
import { Tokenizer } from '../tokenize/index.js';
import { absolutePaths, ConfigError, loadConfig } from '../train/finetune.js';
import { readJsonBounded } from '../util/bounded-read.js';
import { type Command, UsageError } from './command.js';

/**
 * The model folder as training resolves `model:` (a folder relative to the config, or a Hub id),
 * without downloading: a Hub model counts only when it is in the Hugging Face cache.
 */
async function localModelFolder(model: string): Promise<string | undefined> {
  try {
    return (await resolveModel(model, { offline: true })).folder;
  } catch {
    return undefined;
  }
}

/** label2id from the model's config.json, when it has one. */
function modelLabel2id(modelDir: string | undefined): Record<string, number> | undefined {
  const file = modelDir && resolve(modelDir, 'config.json');
  if (!file || !existsSync(file)) return undefined;
  const l2i = (readJsonBounded(file, MAX_MODEL_JSON_BYTES, "a model's config.json") as { label2id?: unknown }).label2id;
  return l2i !== null && typeof l2i === 'object' ? (l2i as Record<string, number>) : undefined;
}

/**
 * Token counts with the model's own tokenizer when the model is a local folder with a
 * tokenizer.json; otherwise whitespace-separated words, said so in the report (a lower bound of
 * what a subword tokenizer gives).
 */
function tokenCounterFor(model: string, modelDir: string | undefined): { counter: TokenCounter; name: string } {
  if (modelDir && existsSync(resolve(modelDir, 'tokenizer.json'))) {
    const tokenizer = Tokenizer.fromFolder(modelDir);
    return {
      counter: { countTokens: (text, pair) => tokenizer.encode(text, pair ?? null).ids.length },
      name: 'model tokenizer',
    };
  }
  return {
    counter: whitespaceCounter,
    name: `whitespace-separated words: no local tokenizer.json for model '${model}' (a folder, or a Hub id in the cache), so subword counts will be higher`,
  };
}

/** The `data stats` report of a config file, as text or one JSON line; data problems throw DataError. */
export async function dataStats(configFile: string, json: boolean): Promise<string> {
  const baseDir = dirname(resolve(configFile));
  const config = absolutePaths(loadConfig(configFile), baseDir);
  const modelDir = await localModelFolder(config.model);
  const label2id = modelLabel2id(modelDir);
  const prepared = await prepareData(config.data, {
    task: config.task,
    format: TASKS[config.task].data,
    baseDir,
    seed: config.training.seed,
    ...(label2id ? { label2id } : {}),
    tokens: tokenCounterFor(config.model, modelDir),
  });
  return json ? `${JSON.stringify(reportJson(prepared.report))}\n` : renderReport(prepared.report);
}

export const dataCommand: Command = {
  summary: 'check and describe the data of a config: bad rows, cleaning, duplicates, leakage, labels, lengths',
  usage: `usage: finetune data stats <config> [--format text|json]

Loads the training and validation data named in the config's "data" section exactly as training
would (cleaning, de-duplication, validation split, label set), and prints what it found: bad rows
with their file, line and column, what cleaning changed, duplicates, texts present in both train
and validation, the label distribution and token-length percentiles against data.max_length.
Exits with status 1 and the location of the problem when the data has an error.

  --format json   print the report as one JSON object (data-report.json's form, every listed
                  row with its file and line) instead of text
  --json          the same as --format json
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { json: { type: 'boolean' }, format: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    const [sub, configFile, ...extra] = positionals;
    if (sub !== 'stats')
      throw new UsageError(sub === undefined ? 'missing sub-command' : `unknown sub-command '${sub}'`);
    if (configFile === undefined) throw new UsageError('missing <config>');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const format = values.format ?? (values.json ? 'json' : 'text');
    if (format !== 'text' && format !== 'json') throw new UsageError(`--format is '${format}', expected text or json`);
    if (values.json && format !== 'json') throw new UsageError('--json and --format text contradict each other');
    try {
      process.stdout.write(await dataStats(configFile, format === 'json'));
      return 0;
    } catch (err) {
      if (!(err instanceof DataError || err instanceof ConfigError)) throw err;
      process.stderr.write(`finetune data: ${err.message}\n`);
      return 1;
    }
  },
};
