import { open, readdir, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  Budget,
  type ConfigFormat,
  type ConfigFs,
  type Diagnostic,
  type FileCheckOptions,
  parseConfigText,
  sortDiagnostics,
  tooLargeDiagnostic,
  validateConfig,
} from '../../shared/config-validate.js';
import { MAX_CONFIG_BYTES } from '../../shared/limits.js';
import { cachedModelFolder, hubEnv, parseHubId, repoCacheFolder } from '../../shared/node/hub-cache.js';
import { memoryDiagnostic } from '../../shared/node/model-memory.js';

/**
 * How long the synchronous phases of one validation in the editor may take before the remaining
 * ones are skipped (and a diagnostic says so): the editor validates on every edit. Each phase is
 * bounded by the input limits, so this bounds the work; a normal config takes a few milliseconds.
 * It runs in the validation worker (config-worker.ts), which the extension host stops outright
 * past CONFIG_WORKER_TIMEOUT_MS (worker-client.ts), since one phase alone can take seconds.
 */
export const EDITOR_VALIDATION_BUDGET_MS = 1000;

export interface EditorValidationOptions {
  /** The budget's clock (tests). */
  now?: () => number;
  /** The free memory the estimate is compared with (tests); os.freemem by default. */
  freeMemory?: () => number;
  /** Told the name of each phase as it starts. */
  onPhase?: (phase: string) => void;
}

/**
 * The shared validator as the editor runs it: within EDITOR_VALIDATION_BUDGET_MS; then, for a
 * config without errors whose model folder can be read, the estimated peak memory of its training
 * run against the free memory (src/shared/node/model-memory.ts).
 */
export async function validateInEditor(
  text: string,
  format: ConfigFormat,
  files: FileCheckOptions | undefined,
  options: EditorValidationOptions = {},
): Promise<Diagnostic[]> {
  const budget = new Budget(EDITOR_VALIDATION_BUDGET_MS, options.now);
  budget.onPhase = options.onPhase;
  const diagnostics = await validateConfig(text, format, files, budget);
  if (!files || diagnostics.some((d) => d.severity === 'error' || d.code === 'validation-stopped')) return diagnostics;
  budget.enter('the memory estimate');
  const fs = files.fs;
  // An estimate that fails (a model folder changing under it) must not cost the other diagnostics.
  const memory = await memoryDiagnostic(parseConfigText(text, format), files.configDir, {
    ...(options.freeMemory ? { freeMemory: options.freeMemory } : {}),
    ...(fs instanceof RecordingConfigFs ? { note: (p: string) => void fs.note(p), env: fs.env } : {}),
  }).catch(() => undefined);
  return memory ? sortDiagnostics([...diagnostics, memory]) : diagnostics;
}

/**
 * A config file from disk (one not open in an editor): its text, or, over MAX_CONFIG_BYTES, the
 * diagnostic that says so without reading it; undefined when it can't be read.
 */
export async function readConfigFile(path: string): Promise<{ text: string } | { tooLarge: Diagnostic } | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    if (size > MAX_CONFIG_BYTES) return { tooLarge: tooLargeDiagnostic(size) };
    return { text: await handle.readFile('utf8') };
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

/**
 * The file system the shared validator's file checks read (model folder, data files), over
 * Node's fs: the extension runs where the workspace is (extensionKind "workspace"), so this is
 * the workspace's disk, remote ones included. Every path it is asked about is recorded, so the
 * diagnostics can re-validate a config when a file it refers to changes, including one that does
 * not exist yet. No 'vscode' import.
 */
export class RecordingConfigFs implements ConfigFs {
  /** Absolute paths the validator looked at. */
  readonly touched = new Set<string>();

  /** `env`: where the Hugging Face cache is (HF_HUB_CACHE, HF_HOME, ...); the process's by default. */
  constructor(readonly env: NodeJS.ProcessEnv = process.env) {}

  /**
   * A Hub id's snapshot folder in the Hugging Face cache, found as the engine finds it offline
   * (src/engine/io/hub-cache.ts). Its refs file is recorded, so a download re-validates.
   */
  async resolveHubModel(id: string): Promise<string | undefined> {
    const hub = parseHubId(id);
    if (hub) this.note(`${repoCacheFolder(hubEnv(this.env).cacheDir, hub.repo)}/refs/${hub.revision}`);
    return cachedModelFolder(id, this.env);
  }

  /** Records a path read outside these methods (the memory estimate reads weights' headers). */
  note(path: string): string {
    const abs = resolve(path);
    this.touched.add(abs);
    return abs;
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(this.note(path));
      return true;
    } catch {
      return false;
    }
  }

  async readText(path: string): Promise<string | undefined> {
    try {
      return await readFile(this.note(path), 'utf8');
    } catch {
      return undefined;
    }
  }

  async readDir(path: string): Promise<string[] | undefined> {
    try {
      return await readdir(this.note(path));
    } catch {
      return undefined;
    }
  }

  async readHead(path: string, bytes: number): Promise<string | undefined> {
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(this.note(path), 'r');
      const buffer = Buffer.alloc(bytes);
      const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
      // A multi-byte character cut at the end decodes to U+FFFD; the validator only reads whole rows.
      return buffer.subarray(0, bytesRead).toString('utf8');
    } catch {
      return undefined;
    } finally {
      await handle?.close();
    }
  }
}
