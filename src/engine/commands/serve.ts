import { parseArgs } from 'node:util';
import { modelFolderOf, type Quantize } from '../inference/finetuned-model.js';
import type { DeviceChoice } from '../runtime.js';
import { DEFAULT_MAX_BODY_BYTES, ServeApp } from '../serve/app.js';
import { loadServedModel } from '../serve/served-model.js';
import { checkpointModel, isCheckpointFolder, type MaterializedModel } from './checkpoint-model.js';
import { type Command, choiceOption, intOption, UsageError } from './command.js';

/** `finetune serve`: an HTTP server over one model (OpenAI routes for a causal LM, /predict for an encoder task). */
export const serveCommand: Command = {
  summary:
    'serve a model over HTTP: OpenAI-compatible routes for a causal LM, /predict for a classifier, QA or translation/summarization model',
  usage: `usage: finetune serve --model <folder|run-dir|run-dir/checkpoints/step-N> [--host 127.0.0.1] [--port 8080]
                      [--max-batch 16] [--max-wait-ms 5] [--max-concurrency 64] [--api-key KEY]
                      [--max-body-bytes 4194304] [--device cpu|cuda|auto] [--threads N] [--quantize int8]
                      [--exit-with-stdin]

Loads the model once and serves until SIGTERM or SIGINT (then stops accepting connections,
finishes the requests in flight and exits 0). Binds to loopback unless --host says otherwise.
Prints "listening on <url>" and one JSON line {"event":"listening","url","port","model"} once bound
(--port 0 picks a free port).

  causal LM:   GET /v1/models, POST /v1/chat/completions, POST /v1/completions (OpenAI's API:
               max_tokens / max_completion_tokens, temperature (0 = greedy), top_p, stop, seed,
               n = 1, stream as server-sent events, usage). Generations decode together
               (continuous batching over the KV cache: up to --max-batch rows per step; a new
               request joins at the next step, a finished one leaves), so a long generation
               does not hold up short ones.
  encoder:     POST /predict {"inputs": str | [str], "parameters": {...}} in transformers'
               pipeline shapes: text classification [{label, score}] (top_k, function_to_apply),
               token classification [{entity_group, score, word, start, end}]
               (aggregation_strategy simple|none, ignore_labels), question answering
               {"inputs": {question, context}} -> {answer, score, start, end}
               (score p_start x p_end as the pipeline's; top_k, max_answer_len,
               handle_impossible_answer, align_to_words).
  seq2seq:     (translation, summarization; a run, or its export in Optimum's layout) POST /predict
               {"inputs": str | [str], "parameters": {"max_new_tokens"}} -> [{"translation_text"}]
               or [{"summary_text"}] (Translation/SummarizationPipeline: one object per input for a
               list), the run's source_prefix prepended, greedy search.
               /predict inputs are batched: a batch runs at --max-batch inputs or after --max-wait-ms.
  always:      GET /health, GET /metrics (Prometheus).
--quantize int8 (task models and causal LMs) runs the linear layers in int8 as \`finetune export
--quantize int8\` writes them (the same rewrite, applied on load; measure its quality change with
that export).
--api-key KEY requires "Authorization: Bearer KEY" (not on /health and /metrics). Requests beyond
--max-concurrency get 429 with Retry-After; bodies beyond --max-body-bytes get 413.
--exit-with-stdin stops the server (draining, as SIGTERM does) when its stdin closes: for a parent
that talks to it over HTTP and must not leave it running when the parent dies (VS Code's Playground).
`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        model: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'max-batch': { type: 'string' },
        'max-wait-ms': { type: 'string' },
        'max-concurrency': { type: 'string' },
        'api-key': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        device: { type: 'string' },
        threads: { type: 'string' },
        quantize: { type: 'string' },
        'exit-with-stdin': { type: 'boolean' },
      },
      strict: true,
    });
    if (!values.model) throw new UsageError('--model is required');
    const atLeastOne = (name: string, v: number | undefined) => {
      if (v === 0) throw new UsageError(`--${name} must be at least 1`);
      return v;
    };
    const port = intOption(values.port, 'port') ?? 8080;
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
    if (values['api-key'] !== undefined && values['api-key'].trim() === '')
      throw new UsageError('--api-key must not be blank');
    const threads = intOption(values.threads, 'threads');
    return serve(values.model, {
      host: values.host ?? '127.0.0.1',
      port,
      device: choiceOption(values.device, 'device', ['cpu', 'cuda', 'auto'] as const) ?? 'cpu',
      ...(threads ? { threads } : {}),
      quantize: choiceOption(values.quantize, 'quantize', ['int8'] as const),
      maxBatch: atLeastOne('max-batch', intOption(values['max-batch'], 'max-batch')) ?? 16,
      maxWaitMs: intOption(values['max-wait-ms'], 'max-wait-ms') ?? 5,
      maxConcurrency: atLeastOne('max-concurrency', intOption(values['max-concurrency'], 'max-concurrency')) ?? 64,
      apiKey: values['api-key'],
      maxBodyBytes:
        atLeastOne('max-body-bytes', intOption(values['max-body-bytes'], 'max-body-bytes')) ?? DEFAULT_MAX_BODY_BYTES,
      exitWithStdin: values['exit-with-stdin'] === true,
    });
  },
};

async function serve(
  path: string,
  o: {
    host: string;
    port: number;
    device: DeviceChoice;
    threads?: number;
    quantize: Quantize | undefined;
    maxBatch: number;
    maxWaitMs: number;
    maxConcurrency: number;
    apiKey: string | undefined;
    maxBodyBytes: number;
    exitWithStdin: boolean;
  },
): Promise<number> {
  // A training checkpoint is served as the model final/ would be at that step (adapters merged).
  const materialized: MaterializedModel | undefined = isCheckpointFolder(path)
    ? await checkpointModel(path)
    : undefined;
  try {
    const folder = materialized?.folder ?? modelFolderOf(path);
    const model = await loadServedModel(folder, path, {
      device: o.device,
      ...(o.threads ? { threads: o.threads } : {}),
      ...(o.quantize ? { quantize: o.quantize } : {}),
    });
    try {
      const app = new ServeApp(model, { ...o, log: (line) => process.stderr.write(`finetune serve: ${line}\n`) });
      const { url, port } = await app.listen(o.host, o.port);
      process.stdout.write(`listening on ${url} (${model.kind === 'causal-lm' ? 'causal LM' : model.task})\n`);
      process.stdout.write(`${JSON.stringify({ event: 'listening', url, port, model: path })}\n`);
      const signal = await new Promise<string>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
        if (o.exitWithStdin) {
          process.stdin.once('end', () => resolve('stdin closed'));
          process.stdin.resume();
        }
      });
      // A stdin still being read would keep the process alive after the drain.
      if (o.exitWithStdin) process.stdin.destroy();
      process.stderr.write(
        `finetune serve: ${signal}: draining ${app.inFlightRequests} request(s) in flight, accepting no more\n`,
      );
      await app.drain();
      process.stderr.write('finetune serve: stopped\n');
      return 0;
    } finally {
      await model.dispose();
    }
  } finally {
    materialized?.dispose();
  }
}
