import type { ResolvedConfig } from '../../shared/config.js';
import { BadRows, DataError } from '../data/errors.js';
import type { PreparedData } from '../data/prepare.js';
import { reportJson, withSkipped } from '../data/report.js';
import { writeTextAtomic } from '../io/atomic.js';
import type { Evaluator } from '../step/batch.js';
import type { TaskRecipe } from '../tasks/task.js';
import type { RunDirectory } from './run-dir.js';
import { streamedData } from './streamed-data.js';
import type { TrainerSetup } from './trainer.js';

/**
 * The examples a run trains on, as the trainer reads them: encoded in memory by the task's recipe
 * (the prepared data), or indices into a tokenized-corpus cache read a batch at a time (streamed).
 */
export interface RunExamples {
  /** The prepared rows behind `train` (in memory only; a streamed corpus has none). */
  prepared?: PreparedData['train'];
  train: readonly unknown[];
  validation: readonly unknown[] | undefined;
  collate: TrainerSetup<unknown>['collate'];
  collateStep?: TrainerSetup<unknown>['collateStep'];
  tokensOf(item: unknown): number;
  evaluate(
    evaluator: Evaluator,
    items: readonly unknown[],
    metrics: readonly string[],
    batchSize: number,
  ): Promise<Record<string, number>>;
  close?(): void;
}

export async function inMemoryExamples(
  run: RunDirectory,
  config: ResolvedConfig,
  recipe: TaskRecipe,
  data: PreparedData,
  newRun: boolean,
): Promise<RunExamples> {
  if (newRun) await recipe.beforeTraining?.(run, { train: data.train, validation: data.validation });
  // Rows found bad only by encoding follow data.on_bad_rows as the loader's do.
  const encodingBadRows = new BadRows(config.data.on_bad_rows);
  const train = recipe.encode(data.train, encodingBadRows);
  const validation = data.validation.length > 0 ? recipe.encode(data.validation, encodingBadRows) : undefined;
  const encoding = recipe.encodeReport?.() ?? [];
  for (const line of encoding) run.log('info', line);
  if (encodingBadRows.count > 0) {
    run.log('warn', `skipped rows while encoding: ${encodingBadRows.count} (data.on_bad_rows: skip)`);
    for (const row of encodingBadRows.listed) run.log('warn', `  ${row.message}`);
  }
  if (encoding.length > 0 || encodingBadRows.count > 0) {
    const json = { ...reportJson(withSkipped(data.report, encodingBadRows)), ...(encoding.length ? { encoding } : {}) };
    writeTextAtomic(run.file('data-report.json'), `${JSON.stringify(json, null, 2)}\n`);
  }
  if (train.length === 0) {
    throw new DataError(
      'empty-dataset',
      `no training examples left after encoding (${data.train.length} prepared, ${encodingBadRows.count} skipped as bad${encoding.length ? `; ${encoding[0]}` : ''})`,
      undefined,
      'at least one row the model can learn from',
    );
  }
  const collateStep = recipe.collateStep?.bind(recipe);
  return {
    prepared: data.train,
    train,
    validation,
    collate: (examples, at) => recipe.collate(examples, at),
    ...(collateStep ? { collateStep } : {}),
    tokensOf: (e) => recipe.tokensOf(e),
    evaluate: (evaluator, examples, metrics, batchSize) => recipe.evaluate(evaluator, examples, metrics, batchSize),
  };
}

/** The examples of a streamed corpus: indices, read from the cache a batch at a time. */
export async function streamedExamples(
  run: RunDirectory,
  config: ResolvedConfig,
  recipe: TaskRecipe,
  tokenizerDir: string,
): Promise<RunExamples> {
  if (!recipe.streaming) {
    throw new DataError(
      'config',
      `data.streaming: task ${config.task} streams plain text only (causal-lm: data.format text, not XLNet's permutation LM)`,
      undefined,
      'data.format: text, or data.streaming: false',
    );
  }
  const data = await streamedData(run, config, recipe.streaming, tokenizerDir);
  writeTextAtomic(run.file('data-report.json'), `${JSON.stringify(data.report, null, 2)}\n`);
  const { train, validation } = data;
  const indices = (n: number) => Array.from({ length: n }, (_, i) => i);
  const collateStep = train.collateStep?.bind(train);
  return {
    train: indices(train.count),
    validation: validation ? indices(validation.count) : undefined,
    collate: (items, at) => train.collate(items as number[], at),
    ...(collateStep ? { collateStep: (micro) => collateStep(micro as (readonly number[])[]) } : {}),
    tokensOf: (item) => train.tokensOf(item as number),
    // The trainer evaluates only when there is a validation split (RunExamples.validation).
    evaluate: (evaluator, items, metrics, batchSize) => {
      if (!validation) throw new Error('evaluate called on a streamed corpus without a validation split');
      return validation.evaluate(evaluator, items as number[], metrics, batchSize);
    },
    close: data.close,
  };
}
