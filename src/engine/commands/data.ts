import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ResolvedConfig } from '../../shared/config.js';
import { MAX_MODEL_JSON_BYTES } from '../../shared/limits.js';
import { augmentPrepared, BACK_TRANSLATION_CACHE, prepareAndAugment } from '../augment/augment.js';
import { DataError } from '../data/errors.js';
import { type PrepareOptions, prepareData } from '../data/prepare.js';
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

/** A config file read as `finetune data` reads it: paths absolute, the model's folder, the data options. */
async function dataOptions(
  configFile: string,
): Promise<{ config: ResolvedConfig; modelDir: string | undefined; options: PrepareOptions }> {
  const baseDir = dirname(resolve(configFile));
  const config = absolutePaths(loadConfig(configFile), baseDir);
  const modelDir = await localModelFolder(config.model);
  const label2id = modelLabel2id(modelDir);
  return {
    config,
    modelDir,
    options: {
      task: config.task,
      format: TASKS[config.task].data,
      baseDir,
      seed: config.training.seed,
      ...(label2id ? { label2id } : {}),
    },
  };
}

/** The `data stats` report of a config file, as text or one JSON line; data problems throw DataError. */
export async function dataStats(configFile: string, json: boolean): Promise<string> {
  const { config, modelDir, options } = await dataOptions(configFile);
  const prepared = await prepareAndAugment(config.data, {
    ...options,
    tokens: tokenCounterFor(config.model, modelDir),
  });
  return json ? `${JSON.stringify(reportJson(prepared.report))}\n` : renderReport(prepared.report);
}

/**
 * `data augment --preview N`: the first N training examples that got copies, each original beside
 * its augmentations, as training makes them (same seed, same rows), and the counts.
 */
export async function dataAugmentPreview(configFile: string, preview: number): Promise<string> {
  const { config, options } = await dataOptions(configFile);
  if (!config.data.augment)
    throw new DataError('config', `${configFile}: the config has no data.augment`, undefined, 'a data.augment section');
  const prepared = await prepareData(config.data, options);
  // Back-translations go to (and come from) the cache a run of this config uses, beside its runs folder.
  const runs = resolve(config.output_dir);
  const { report: full } = await augmentPrepared(prepared, config.data.augment, {
    seed: config.training.seed,
    samples: preview,
    runtime: {
      cacheDir: join(dirname(runs), 'cache', BACK_TRANSLATION_CACHE),
      device: config.device,
      log: (line) => process.stderr.write(`${line}\n`),
    },
  });
  const report = full.augment;
  if (!report) throw new Error('data.augment made no report');
  const lines = [
    `${report.before} training examples -> ${report.after} with augmentation (validation: ${prepared.validation.length}, never augmented)`,
    ...report.methods.map((m) => `  ${m}`),
  ];
  report.samples.forEach((s, i) => {
    lines.push('', `[${i + 1}] original:  ${s.original}`);
    for (const a of s.augmented) lines.push(`    augmented: ${a}`);
  });
  return `${lines.join('\n')}\n`;
}

export const dataCommand: Command = {
  summary:
    'check and describe the data of a config (bad rows, cleaning, duplicates, leakage, labels, lengths); preview its augmentation',
  usage: `usage: finetune data stats <config> [--format text|json]
       finetune data augment <config> [--preview N]

Loads the training and validation data named in the config's "data" section exactly as training
would (cleaning, de-duplication, validation split, label set), and prints what it found: bad rows
with their file, line and column, what cleaning changed, duplicates, texts present in both train
and validation, the label distribution and token-length percentiles against data.max_length.
Exits with status 1 and the location of the problem when the data has an error.

  --format json   print the report as one JSON object (data-report.json's form, every listed
                  row with its file and line) instead of text
  --json          the same as --format json

\`data augment\` applies the config's data.augment to the training examples as training would
(same seed, same copies) and prints the first N originals that got copies beside them (default 10).

  --preview N   how many originals to show
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { json: { type: 'boolean' }, format: { type: 'string' }, preview: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    const [sub, configFile, ...extra] = positionals;
    if (sub !== 'stats' && sub !== 'augment')
      throw new UsageError(sub === undefined ? 'missing sub-command' : `unknown sub-command '${sub}'`);
    if (configFile === undefined) throw new UsageError('missing <config>');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const format = values.format ?? (values.json ? 'json' : 'text');
    if (format !== 'text' && format !== 'json') throw new UsageError(`--format is '${format}', expected text or json`);
    if (values.json && format !== 'json') throw new UsageError('--json and --format text contradict each other');
    const preview = values.preview === undefined ? 10 : Number(values.preview);
    if (!Number.isInteger(preview) || preview < 1)
      throw new UsageError(`--preview must be a positive integer, not '${values.preview}'`);
    try {
      process.stdout.write(
        sub === 'augment'
          ? await dataAugmentPreview(configFile, preview)
          : await dataStats(configFile, format === 'json'),
      );
      return 0;
    } catch (err) {
      if (!(err instanceof DataError || err instanceof ConfigError)) throw err;
      process.stderr.write(`finetune data: ${err.message}\n`);
      return 1;
    }
  },
};
