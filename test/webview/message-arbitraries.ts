import fc from 'fast-check';

/**
 * Random messages of the panel protocol (src/shared/messages.ts) for the fuzz tests, as JSON values
 * (VS Code carries webview messages as JSON): mostly well-formed, with any field now and then
 * replaced by any JSON value or left out, and now and then no message shape at all. Well-formed
 * parts keep the messages deep enough to reach the handlers behind the shape checks.
 */
const json = fc.jsonValue({ maxDepth: 3 });

/** `valid` most of the time, else any JSON value. */
function maybe<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<T | unknown> {
  return fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: json, weight: 1 });
}

const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 });
const count = fc.nat({ max: 5000 });
const time = fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 });
const iso = time.map((t) => new Date(t).toISOString());
const runId = fc.constantFrom('demo-20250101-120000', 'demo-20250101-130000', 'other-20250102-090000');
const metricName = fc.constantFrom('loss', 'accuracy', 'f1', 'perplexity', 'mse', 'x');

/** A record whose keys are each present only sometimes (some required ones dropped). */
function partial<T extends Record<string, fc.Arbitrary<unknown>>>(fields: T, required: (keyof T)[]) {
  return fc.oneof(
    { arbitrary: fc.record(fields, { requiredKeys: required as (keyof T & string)[] }), weight: 8 },
    { arbitrary: fc.record(fields, { requiredKeys: [] }), weight: 1 },
  );
}

const status = partial(
  {
    state: maybe(fc.constantFrom('queued', 'running', 'completed', 'failed', 'stopped')),
    pid: maybe(fc.nat()),
    startedAt: maybe(iso),
    updatedAt: maybe(iso),
    step: maybe(count),
    totalSteps: maybe(count),
    epoch: maybe(finite),
    best: maybe(fc.record({ metric: metricName, value: finite, step: count })),
    reason: maybe(fc.string()),
  },
  ['state', 'pid', 'startedAt', 'updatedAt', 'step', 'totalSteps', 'epoch'],
);

/** Events as the engine writes them; loss and lr may be null (NaN through JSON). */
export const runEvent = fc.oneof(
  partial(
    {
      type: fc.constant('step'),
      step: maybe(count),
      epoch: maybe(finite),
      loss: maybe(fc.option(finite)),
      lr: maybe(fc.option(finite)),
      tokensPerSec: maybe(finite),
      t: maybe(time),
    },
    ['type', 'step', 'epoch', 'loss', 'lr', 'tokensPerSec', 't'],
  ),
  partial(
    {
      type: fc.constant('eval'),
      step: maybe(count),
      metrics: maybe(fc.dictionary(metricName, finite)),
      t: maybe(time),
    },
    ['type', 'step', 'metrics', 't'],
  ),
  partial(
    {
      type: fc.constant('log'),
      level: maybe(fc.constantFrom('debug', 'info', 'warn', 'error')),
      message: maybe(fc.string()),
      t: maybe(time),
    },
    ['type', 'level', 'message', 't'],
  ),
  partial({ type: fc.constant('checkpoint'), step: maybe(count), path: maybe(fc.string()), t: maybe(time) }, [
    'type',
    'step',
    'path',
    't',
  ]),
  partial({ type: fc.constant('status'), state: maybe(fc.string()), t: maybe(time) }, ['type', 'state', 't']),
  partial(
    {
      type: fc.constant('samples'),
      step: maybe(count),
      samples: maybe(
        fc.array(
          partial({ source: maybe(fc.string()), reference: maybe(fc.string()), prediction: maybe(fc.string()) }, [
            'source',
            'reference',
            'prediction',
          ]),
          { maxLength: 3 },
        ),
      ),
      t: maybe(time),
    },
    ['type', 'step', 'samples', 't'],
  ),
  json,
);

const confusion = fc.record({
  labels: maybe(fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 4 })),
  matrix: maybe(fc.array(fc.array(fc.nat(), { maxLength: 4 }), { maxLength: 4 })),
});

const runInfo = partial(
  {
    id: maybe(runId),
    dir: maybe(runId.map((id) => `/ws/.finetune/runs/${id}`)),
    status: maybe(status),
    config: json,
    finalMetrics: maybe(
      fc.oneof(fc.dictionary(metricName, finite), fc.record({ accuracy: finite, confusion_matrix: confusion })),
    ),
  },
  ['id', 'dir'],
);

const events = maybe(fc.array(runEvent, { maxLength: 12 }));
const runSnapshot = fc.tuple(runInfo, events).map(([info, e]) => (isRecord(info) ? { ...info, events: e } : info));

const diagnostic = partial(
  {
    severity: maybe(fc.constantFrom('error', 'warning', 'info')),
    message: maybe(fc.string()),
    code: maybe(fc.string()),
    path: maybe(
      fc.array(fc.oneof(fc.constantFrom('training', 'epochs', 'data'), fc.nat({ max: 3 })), { maxLength: 3 }),
    ),
    range: maybe(
      fc.record({
        start: fc.record({ line: fc.nat({ max: 20 }), character: fc.nat({ max: 40 }) }),
        end: fc.record({ line: fc.nat({ max: 20 }), character: fc.nat({ max: 40 }) }),
      }),
    ),
  },
  ['severity', 'message', 'code', 'path', 'range'],
);

const CONFIG_TEXTS = [
  'model: ./m\ntask: text-classification\ndata:\n  train: t.jsonl\ntraining:\n  epochs: 3\n',
  '{"model": "m", "task": "causal-lm", "training": {"learning_rate": "fast"}}',
  'training: [1, 2\n',
  '',
];
const configState = partial(
  {
    uri: maybe(fc.constant('file:///ws/demo.finetune.yaml')),
    fileName: maybe(fc.constant('demo.finetune.yaml')),
    format: maybe(fc.constantFrom('yaml', 'json')),
    text: maybe(fc.oneof(fc.constantFrom(...CONFIG_TEXTS), fc.string())),
    version: maybe(fc.nat()),
    diagnostics: maybe(fc.array(diagnostic, { maxLength: 3 })),
  },
  ['uri', 'fileName', 'format', 'text', 'version'],
);

const chatId = fc.nat({ max: 5 });
const chatModel = fc.record({
  key: fc.constantFrom('final', 'step-4', 'step-12', '../../etc'),
  label: fc.constantFrom('final model', 'checkpoint step 4'),
});
const chatOptions = fc.record(
  {
    max_new_tokens: maybe(fc.integer({ min: 0, max: 300 })),
    temperature: maybe(fc.double({ min: -1, max: 2, noNaN: true })),
    top_p: maybe(fc.double({ min: 0, max: 1.5, noNaN: true })),
    top_k: maybe(fc.integer({ min: -1, max: 50 })),
    seed: maybe(fc.nat()),
  },
  { requiredKeys: [] },
);
const chatTurn = fc.record({
  role: maybe(fc.constantFrom('user', 'assistant', 'system')),
  content: maybe(fc.string()),
});

const paramKey = fc.constantFrom('training.learning_rate', 'training.batch_size', 'training.epochs');
const paramValue = fc.oneof(finite, fc.constantFrom(8, 16, 'a', true));
const sweepParameter = partial(
  {
    key: maybe(paramKey),
    type: maybe(fc.constantFrom('choice', 'grid', 'uniform', 'loguniform', 'int')),
    values: maybe(fc.array(paramValue, { maxLength: 3 })),
    low: maybe(fc.oneof(finite, fc.constant(1e-5))),
    high: maybe(fc.oneof(finite, fc.constant(1e-3))),
  },
  ['key', 'type'],
);
const trialRecord = partial(
  {
    number: maybe(fc.nat({ max: 20 })),
    state: maybe(fc.constantFrom('running', 'completed', 'pruned', 'failed')),
    params: maybe(fc.dictionary(paramKey, paramValue, { maxKeys: 3 })),
    dir: maybe(fc.constant('trials/0')),
    value: maybe(finite),
    intermediate: maybe(fc.array(fc.record({ step: count, value: fc.option(finite) }), { maxLength: 3 })),
    rungs: maybe(fc.array(finite, { maxLength: 2 })),
    startedAt: maybe(iso),
    endedAt: maybe(iso),
  },
  ['number', 'state', 'params', 'dir', 'intermediate', 'rungs', 'startedAt'],
);
/** sweep.json as the engine writes it (src/shared/sweep-record.ts), fields now and then wrong. */
const sweepRecord = partial(
  {
    version: maybe(fc.constant(1)),
    state: maybe(fc.constantFrom('running', 'completed', 'stopped', 'failed')),
    pid: maybe(fc.nat()),
    startedAt: maybe(iso),
    updatedAt: maybe(iso),
    settings: maybe(
      partial(
        {
          metric: maybe(metricName),
          mode: maybe(fc.constantFrom('min', 'max')),
          max_trials: maybe(fc.nat({ max: 20 })),
          parameters: maybe(fc.array(sweepParameter, { maxLength: 3 })),
          seed: maybe(fc.nat()),
        },
        ['metric', 'mode', 'max_trials', 'parameters'],
      ),
    ),
    trials: maybe(fc.array(trialRecord, { maxLength: 6 })),
  },
  ['version', 'state', 'pid', 'startedAt', 'updatedAt', 'settings', 'trials'],
);
const sweepInfo = partial(
  {
    id: maybe(fc.constant('demo-sweep-20250101-120000')),
    dir: maybe(fc.constant('/w/demo-sweep-20250101-120000')),
    record: maybe(sweepRecord),
    state: maybe(fc.constantFrom('running', 'completed', 'stopped', 'failed')),
    error: maybe(fc.string()),
    sourceFile: maybe(fc.string()),
  },
  ['id', 'dir'],
);

/** Playground inputs and results: well-formed, and with the faults the checks must catch. */
const playText = fc.constantFrom('a fine film', '😀 Ada in Paris', '', '  ');
const playgroundInput = fc.oneof(
  fc.record({
    task: fc.constantFrom('text-classification', 'token-classification', 'masked-lm'),
    text: maybe(playText),
  }),
  fc.record({
    task: fc.constantFrom('translation', 'summarization'),
    text: maybe(playText),
    // Over 4096 (finetune serve's bound) and under 1 are refused.
    maxTokens: maybe(fc.integer({ min: -1, max: 4100 })),
  }),
  fc.record({ task: fc.constant('question-answering'), question: maybe(playText), context: maybe(playText) }),
  fc.record({
    task: fc.constant('causal-lm'),
    prompt: maybe(playText),
    maxTokens: maybe(fc.integer({ min: -1, max: 64 })),
    temperature: maybe(fc.double({ min: -1, max: 3, noNaN: true })),
  }),
);
const span = fc.record({
  group: maybe(fc.constantFrom('PER', 'LOC')),
  word: maybe(fc.string()),
  answer: maybe(fc.string()),
  score: maybe(fc.double({ min: 0, max: 1, noNaN: true })),
  start: maybe(fc.integer({ min: -1, max: 20 })),
  end: maybe(fc.integer({ min: 0, max: 30 })),
});
const playgroundResult = fc.oneof(
  fc.record({
    task: fc.constant('text-classification'),
    labels: maybe(
      fc.array(fc.record({ label: maybe(fc.string()), score: maybe(fc.double({ noNaN: true })) }), { maxLength: 3 }),
    ),
  }),
  fc.record({
    task: fc.constant('token-classification'),
    text: maybe(playText),
    entities: maybe(fc.array(span, { maxLength: 3 })),
  }),
  fc.record({
    task: fc.constant('question-answering'),
    question: maybe(playText),
    context: maybe(playText),
    answer: maybe(span),
  }),
  fc.record({
    task: fc.constant('causal-lm'),
    prompt: maybe(playText),
    text: maybe(fc.string()),
    finishReason: maybe(fc.constantFrom('stop', 'length', 'stopped', 'eos')),
  }),
  fc.record({
    task: fc.constantFrom('translation', 'summarization'),
    source: maybe(playText),
    text: maybe(fc.string()),
    ms: maybe(fc.double({ min: -1, max: 1e5, noNaN: true })),
  }),
);

/** The Playground's host messages. */
export const playgroundHostMessage: fc.Arbitrary<unknown> = fc.oneof(
  partial(
    {
      type: fc.constant('playgroundModels'),
      runId: maybe(runId),
      task: maybe(fc.constantFrom('text-classification', 'causal-lm', 'translation', 'x')),
      models: maybe(fc.array(maybe(chatModel), { maxLength: 3 })),
      unavailable: maybe(fc.string()),
    },
    ['type', 'runId', 'models'],
  ),
  partial({ type: fc.constant('playgroundToken'), playId: maybe(chatId), text: maybe(fc.string()) }, [
    'type',
    'playId',
    'text',
  ]),
  partial({ type: fc.constant('playgroundResult'), playId: maybe(chatId), result: maybe(playgroundResult) }, [
    'type',
    'playId',
    'result',
  ]),
);

/** Host -> webview messages. */
export const hostMessage: fc.Arbitrary<unknown> = fc.oneof(
  partial(
    {
      type: fc.constant('init'),
      config: maybe(configState),
      runs: maybe(fc.array(runSnapshot, { maxLength: 3 })),
      trusted: maybe(fc.boolean()),
      target: maybe(
        fc.record(
          { runDirs: maybe(fc.array(fc.string(), { maxLength: 2 })), sweepDir: maybe(fc.string()) },
          { requiredKeys: ['runDirs'] },
        ),
      ),
      sweep: maybe(sweepInfo),
    },
    ['type', 'runs', 'trusted', 'target'],
  ),
  partial({ type: fc.constant('sweep'), sweep: maybe(sweepInfo) }, ['type', 'sweep']),
  partial({ type: fc.constant('config'), config: maybe(configState) }, ['type', 'config']),
  partial(
    {
      type: fc.constant('events'),
      runs: maybe(fc.array(fc.record({ runId: maybe(runId), events }), { maxLength: 3 })),
    },
    ['type', 'runs'],
  ),
  partial({ type: fc.constant('run'), run: maybe(runInfo), events }, ['type', 'run']),
  partial({ type: fc.constant('runRemoved'), runId: maybe(runId) }, ['type', 'runId']),
  partial(
    { type: fc.constant('reply'), id: maybe(fc.nat({ max: 5 })), ok: maybe(fc.boolean()), error: maybe(fc.string()) },
    ['type', 'id', 'ok'],
  ),
  partial(
    {
      type: fc.constant('chatModels'),
      runId: maybe(runId),
      models: maybe(fc.array(maybe(chatModel), { maxLength: 3 })),
      unavailable: maybe(fc.string()),
    },
    ['type', 'runId', 'models'],
  ),
  partial({ type: fc.constant('chatReady'), chatId: maybe(chatId), chat: maybe(fc.boolean()) }, [
    'type',
    'chatId',
    'chat',
  ]),
  partial({ type: fc.constant('chatToken'), chatId: maybe(chatId), text: maybe(fc.string()) }, [
    'type',
    'chatId',
    'text',
  ]),
  partial(
    {
      type: fc.constant('chatDone'),
      chatId: maybe(chatId),
      stoppedBy: maybe(fc.constantFrom('eos', 'max_new_tokens', 'context', 'stopped')),
      tokens: maybe(count),
    },
    ['type', 'chatId', 'stoppedBy', 'tokens'],
  ),
  playgroundHostMessage,
  json,
);

/** Webview -> host messages. */
export const webviewMessage: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant({ type: 'ready' }),
  partial(
    {
      type: fc.constant('editConfig'),
      id: maybe(fc.nat()),
      path: maybe(
        fc.array(
          fc.oneof(
            fc.constantFrom('training', 'epochs', 'data', 'lora', '__proto__'),
            fc.integer({ min: -2, max: 3 }),
            fc.string(),
          ),
          {
            maxLength: 4,
          },
        ),
      ),
      value: fc.option(json, { nil: undefined }),
    },
    ['type', 'id', 'path'],
  ),
  partial(
    {
      type: fc.constant('command'),
      id: maybe(fc.nat()),
      command: maybe(fc.constantFrom('start', 'stop', 'resume')),
      runId: maybe(runId),
    },
    ['type', 'id', 'command'],
  ),
  partial(
    {
      type: fc.constant('exportPng'),
      id: maybe(fc.nat()),
      fileName: maybe(fc.constantFrom('loss.png', '../../etc/passwd', '')),
      dataUrl: maybe(fc.base64String({ maxLength: 16 }).map((b) => `data:image/png;base64,${b}`)),
    },
    ['type', 'id', 'fileName', 'dataUrl'],
  ),
  partial({ type: fc.constant('chatModels'), id: maybe(fc.nat()), runId: maybe(runId) }, ['type', 'id', 'runId']),
  partial(
    {
      type: fc.constant('chatSend'),
      id: maybe(fc.nat()),
      chatId: maybe(chatId),
      runId: maybe(runId),
      model: maybe(chatModel.map((m) => m.key)),
      system: maybe(fc.string()),
      messages: maybe(fc.array(chatTurn, { maxLength: 3 })),
      options: maybe(chatOptions),
    },
    ['type', 'id', 'chatId', 'runId', 'model', 'system', 'messages', 'options'],
  ),
  partial({ type: fc.constant('chatStop'), id: maybe(fc.nat()), chatId: maybe(chatId) }, ['type', 'id', 'chatId']),
  partial({ type: fc.constant('applyBest'), id: maybe(fc.nat()), trial: maybe(fc.nat({ max: 20 })) }, [
    'type',
    'id',
    'trial',
  ]),
  partial({ type: fc.constant('dataReport'), id: maybe(fc.nat()), runId: maybe(runId) }, ['type', 'id']),
  partial(
    {
      type: fc.constant('openDataRow'),
      id: maybe(fc.nat()),
      file: maybe(fc.constantFrom('/ws/data/train.jsonl', 'train.jsonl', '../../etc/passwd', '')),
      line: maybe(fc.integer({ min: -1, max: 5 })),
      runId: maybe(runId),
    },
    ['type', 'id', 'file', 'line'],
  ),
  partial({ type: fc.constant('playgroundModels'), id: maybe(fc.nat()), runId: maybe(runId) }, ['type', 'id', 'runId']),
  partial(
    {
      type: fc.constant('playgroundRun'),
      id: maybe(fc.nat()),
      playId: maybe(chatId),
      runId: maybe(runId),
      model: maybe(chatModel.map((m) => m.key)),
      input: maybe(playgroundInput),
    },
    ['type', 'id', 'playId', 'runId', 'model', 'input'],
  ),
  partial({ type: fc.constant('playgroundStop'), id: maybe(fc.nat()), playId: maybe(chatId) }, [
    'type',
    'id',
    'playId',
  ]),
  json,
);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
