import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { ChatReply } from '../../shared/chat-protocol.js';
import { loadCausalLm } from '../inference/causal-lm-model.js';
import { hasChatTemplate } from '../inference/chat-prompt.js';
import { ChatServer } from '../inference/chat-server.js';
import type { DeviceChoice } from '../runtime.js';
import { checkpointModel, isCheckpointFolder, type MaterializedModel } from './checkpoint-model.js';
import { type Command, choiceOption, intOption, UsageError } from './command.js';

/** `finetune chat`: the engine side of the run panel's Chat tab (protocol: src/shared/chat-protocol.ts). */
export const chatCommand: Command = {
  summary: "talk to a causal LM over JSON lines on stdin/stdout (the run panel's Chat tab)",
  usage: `usage: finetune chat --model <folder|run-dir|run-dir/checkpoints/step-N> [--device cpu|cuda|auto] [--threads N]

Loads the model once and serves JSON lines, one object per line, until stdin closes (exit 0):
  stdin:  {"type":"generate","id":1,"messages":[{"role":"user","content":"..."}],
           "options":{"max_new_tokens":256,"temperature":0.7,"top_p":0.9,"top_k":50,"seed":0}}
          {"type":"stop","id":1}
  stdout: {"type":"ready","model","architecture","chat"} once loaded, then per generation
          {"type":"token","id","text"} (text deltas, streamed), {"type":"done","id","stoppedBy","tokens"};
          {"type":"error","id"?,"message"} for a bad request or a failed generation.
Greedy unless options.temperature > 0. One generation at a time. A model without a chat template
(chat: false) continues the text of the last user message. A checkpoint folder is served with the
base model's config and tokenizer (from the run's config.yaml), LoRA adapters merged.
`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { model: { type: 'string' }, device: { type: 'string' }, threads: { type: 'string' } },
      strict: true,
    });
    if (!values.model) throw new UsageError('--model is required');
    const device = choiceOption(values.device, 'device', ['cpu', 'cuda', 'auto'] as const) ?? 'cpu';
    const threads = intOption(values.threads, 'threads');
    return serveChat(values.model, { device, ...(threads ? { threads } : {}) });
  },
};

const write = (reply: ChatReply) => process.stdout.write(`${JSON.stringify(reply)}\n`);

async function serveChat(path: string, o: { device: DeviceChoice; threads?: number }): Promise<number> {
  let materialized: MaterializedModel | undefined;
  let model: Awaited<ReturnType<typeof loadCausalLm>>;
  try {
    if (isCheckpointFolder(path)) materialized = await checkpointModel(path);
    model = await loadCausalLm(materialized?.folder ?? path, o);
  } catch (err) {
    materialized?.dispose();
    // The extension reads stdout only: the reason goes there, as the protocol's error.
    write({ type: 'error', message: `could not load ${path}: ${(err as Error).message}` });
    return 1;
  }
  const server = new ChatServer(model, write);
  try {
    write({ type: 'ready', model: path, architecture: model.architecture, chat: hasChatTemplate(model.folder) });
    const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) server.handleLine(line);
    await server.close();
    return 0;
  } finally {
    await model.dispose();
    materialized?.dispose();
  }
}
