import { parseArgs } from 'node:util';
import { DEVICE_NAMES } from '../../shared/config.js';
import { selftest } from '../../tools/selftest.js';
import { type Command, choiceOption, intOption } from './command.js';

export const selftestCommand: Command = {
  summary: 'train a small transformer classifier on a synthetic task and report accuracy',
  usage: `usage: finetune selftest [--epochs N] [--device auto|cpu|cuda] [--threads N] [--seed N]

Builds a 2-layer transformer encoder with the engine's graph builder, trains it with its own
autodiff and AdamW on ONNX Runtime, and prints loss and validation accuracy per epoch.

  --epochs N     epochs to train (default 6)
  --device D     auto (default): CUDA when its provider is installed, else CPU
  --threads N    ONNX Runtime intra-op threads (default: one per core)
  --seed N       seed of data, weights and dropout (default 42)
`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        epochs: { type: 'string' },
        device: { type: 'string' },
        threads: { type: 'string' },
        seed: { type: 'string' },
      },
      strict: true,
    });
    const reports = await selftest({
      epochs: intOption(values.epochs, 'epochs') ?? 6,
      device: choiceOption(values.device, 'device', DEVICE_NAMES) ?? 'auto',
      threads: intOption(values.threads, 'threads'),
      seed: intOption(values.seed, 'seed') ?? 42,
      out: process.stdout,
    });
    const last = reports[reports.length - 1];
    process.stdout.write(`selftest: final validation accuracy ${((last?.valAccuracy ?? 0) * 100).toFixed(1)}%\n`);
    return 0;
  },
};
