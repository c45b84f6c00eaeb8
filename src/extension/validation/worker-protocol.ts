import type { ConfigFormat, Diagnostic } from '../../shared/config-validate.js';

/**
 * The messages between the extension host and its config validation worker (config-worker.ts,
 * bundled as dist/config-worker.js; the host side is worker-client.ts). Both ends are built from
 * this repository together, so the types are the contract; structured clone carries them.
 */

/** Host -> worker: validate this text; `configDir` (the config's folder) turns the file checks on. */
export interface WorkerRequest {
  id: number;
  text: string;
  format: ConfigFormat;
  configDir?: string;
}

/** Worker -> host: the validation `id` has entered a phase (so a stopped one can say where it was). */
export interface WorkerPhase {
  id: number;
  phase: string;
}

/** Worker -> host: the answer, with the absolute paths the file checks looked at. */
export interface WorkerResult {
  id: number;
  diagnostics: Diagnostic[];
  touched: string[];
}

/** Worker -> host: the validator threw (a bug: it reports bad input as diagnostics). */
export interface WorkerFailure {
  id: number;
  error: string;
}

export type WorkerMessage = WorkerPhase | WorkerResult | WorkerFailure;
