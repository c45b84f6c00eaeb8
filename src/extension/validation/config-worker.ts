import { parentPort } from 'node:worker_threads';
import { RecordingConfigFs, validateInEditor } from './config-fs.js';
import type { WorkerMessage, WorkerRequest } from './worker-protocol.js';

/**
 * The config validation worker: a worker thread of the extension host (dist/config-worker.js)
 * that runs the shared validator, so that a pathological config (seconds of parsing near the size
 * limit) never blocks the host's event loop, which every extension shares. The host
 * (worker-client.ts) sends one request at a time and stops this thread when one takes too long.
 */
const port = parentPort;
if (!port) throw new Error('config-worker.js runs as a worker thread of the Fine-tune extension host.');

function post(message: WorkerMessage): void {
  port?.postMessage(message);
}

async function answer({ id, text, format, configDir }: WorkerRequest): Promise<void> {
  const fs = new RecordingConfigFs();
  try {
    const files = configDir === undefined ? undefined : { fs, configDir };
    const diagnostics = await validateInEditor(text, format, files, { onPhase: (phase) => post({ id, phase }) });
    post({ id, diagnostics, touched: [...fs.touched] });
  } catch (err) {
    post({ id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
}

port.on('message', (request: WorkerRequest) => void answer(request));
