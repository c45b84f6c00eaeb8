import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { epochSeconds, formatBytes, formatDuration } from '../../shared/cost-estimate.js';
import { estimateCacheDir } from '../../shared/node/estimate-cache.js';
import { estimateStep } from '../train/estimate.js';
import { type Command, choiceOption, ENGINE_OPTIONS, engineOptions, UsageError, withEngineExit } from './command.js';

const options = {
  ...ENGINE_OPTIONS,
  format: { type: 'string' },
  'cache-dir': { type: 'string' },
  'no-cache': { type: 'boolean' },
} as const;

export const estimateCommand: Command = {
  summary: 'time one training step of a config on this machine: peak memory and time per epoch',
  usage: `usage: finetune estimate <config.finetune.yaml> [--format text|json] [--device D] [--threads N]
                         [--cache-dir DIR | --no-cache]

Prepares the data and builds the training step exactly as 'finetune train' would, runs one
optimizer step on the longest batch (warm-up, and the memory peak), then times one on the first
batch_size rows. Prints the step time, the process's peak resident memory and the time per epoch
(step time x steps per epoch; evaluation not counted), and records them in the cache the editor's
CodeLens reads: <config folder>/${'.finetune/cache/estimates'} unless --cache-dir or --no-cache.

  --format F      text (default) or json (the cache record)
  --device D      overrides the config's device
  --threads N     ONNX Runtime intra-op threads (default: one per core); part of the cache key
`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    const [config, ...extra] = positionals;
    if (!config || extra.length > 0) throw new UsageError('expected exactly one config file');
    const format = choiceOption(values.format, 'format', ['text', 'json'] as const) ?? 'text';
    if (values['no-cache'] && values['cache-dir'])
      throw new UsageError('--cache-dir and --no-cache exclude each other');
    const cacheDir = values['no-cache'] ? undefined : (values['cache-dir'] ?? estimateCacheDir(resolve(config)));
    return withEngineExit(async () => {
      const log = format === 'text' ? (line: string) => process.stderr.write(`${line}\n`) : undefined;
      const r = await estimateStep(config, {
        ...engineOptions(values),
        ...(cacheDir ? { cacheDir } : {}),
        ...(log ? { log } : {}),
      });
      if (format === 'json') {
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return 0;
      }
      const epoch = epochSeconds(r.stepSeconds, r.trainRows, r.batchSize, r.gradientAccumulationSteps);
      process.stdout.write(
        [
          `step: ${r.stepSeconds.toFixed(3)} s (${r.gradientAccumulationSteps} x ${r.batchSize} rows x ${r.tokens} tokens)`,
          `peak memory: ${formatBytes(r.peakRssBytes)} (longest batch: ${r.longestTokens} tokens per row)`,
          `epoch: ≈ ${formatDuration(epoch)} (${r.trainRows} rows)`,
          ...(cacheDir ? [`recorded in ${resolve(dirname(resolve(config)), cacheDir)}`] : []),
          '',
        ].join('\n'),
      );
      return 0;
    });
  },
};
