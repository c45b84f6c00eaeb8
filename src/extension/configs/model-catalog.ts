import { type ModelInfo, scanHubCache, scanWorkspaceModels } from '../../shared/node/model-scan.js';

/**
 * The models on this machine for completion on `model:`: the workspace's model folders and the
 * Hugging Face cache, scanned at most once per `ttlMs` (completion asks on every keystroke; a
 * download or a new folder shows up at the next scan). No 'vscode' import.
 */
export class ModelCatalog {
  private cached: { at: number; key: string; models: Promise<ModelInfo[]> } | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  list(roots: readonly string[]): Promise<ModelInfo[]> {
    const key = roots.join('\n');
    const c = this.cached;
    if (c && c.key === key && this.now() - c.at < this.ttlMs) return c.models;
    const models = (async () => [...(await scanWorkspaceModels(roots)), ...(await scanHubCache(this.env))])();
    this.cached = { at: this.now(), key, models };
    return models;
  }
}
