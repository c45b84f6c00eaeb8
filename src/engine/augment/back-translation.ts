import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedAugmentConfig } from '../../shared/config.js';
import { modelFolderOf, runConfigOf } from '../inference/finetuned-model.js';
import { type LoadedSeq2Seq, loadSeq2Seq } from '../inference/seq2seq-model.js';
import { writeTextAtomic } from '../io/atomic.js';
import { hashFiles } from '../io/file-hash.js';
import type { DeviceChoice } from '../runtime.js';
import { counterSeed } from '../util/random.js';

/**
 * Back-translation (Sennrich et al. 2016; as paraphrasing, Xie et al. 2019): each text translated
 * into a pivot language by `via` and back by `back`, sampled with the configured temperature, in
 * batches. A model given as a run directory brings its run's source_prefix (`translate English to
 * German: `), as predict does. The round trips are cached on disk, one JSON entry keyed by both
 * models' files, the texts and every setting that changes the output (seed included), written
 * atomically: a resumed run, a second run of the same data, or `data augment --preview` reads them
 * instead of translating again.
 */
export type BackTranslationSettings = NonNullable<ResolvedAugmentConfig['back_translation']>;

export interface BackTranslateOptions {
  seed: number;
  /** Where entries are kept (cache/back-translation beside the runs folder). */
  cacheDir: string;
  device?: DeviceChoice;
  threads?: number;
  log?: (line: string) => void;
}

const FORMAT = 'finetune-back-translation/1';

/** Stream number of back-translation's draws (augment.ts numbers its own operations 1-3). */
const STREAM = 4;

interface Direction {
  model: LoadedSeq2Seq;
  prefix: string;
}

/** A model's files that decide what it generates. */
function modelHash(path: string): string {
  const folder = modelFolderOf(path);
  const hash = hashFiles(
    folder,
    (n) => n.endsWith('.safetensors') || ['config.json', 'generation_config.json', 'tokenizer.json'].includes(n),
  );
  return `${hash}:${runConfigOf(folder)?.data.source_prefix ?? ''}`;
}

export function backTranslationKey(texts: readonly string[], cfg: BackTranslationSettings, seed: number): string {
  const textHash = createHash('sha256');
  for (const t of texts) textHash.update(`${JSON.stringify(t)}\n`);
  const settings = [cfg.temperature, cfg.n_aug, cfg.batch_size, cfg.max_new_tokens ?? null, seed];
  return createHash('sha256')
    .update(JSON.stringify([FORMAT, modelHash(cfg.via), modelHash(cfg.back), textHash.digest('hex'), settings]))
    .digest('hex')
    .slice(0, 32);
}

/** Per text, its n_aug round trips (in copy order). */
export async function backTranslate(
  texts: readonly string[],
  cfg: BackTranslationSettings,
  o: BackTranslateOptions,
): Promise<string[][]> {
  const key = backTranslationKey(texts, cfg, o.seed);
  const file = join(o.cacheDir, `${key}.json`);
  const cached = readEntry(file, texts.length, cfg.n_aug);
  if (cached) {
    o.log?.(`back-translation: ${texts.length} texts read from the cache (${file})`);
    return cached;
  }
  const t0 = performance.now();
  const loaded = { device: o.device ?? 'cpu', ...(o.threads ? { threads: o.threads } : {}) } as const;
  const open = async (path: string): Promise<Direction> => {
    const model = await loadSeq2Seq(path, loaded);
    return { model, prefix: runConfigOf(model.folder)?.data.source_prefix ?? '' };
  };
  const via = await open(cfg.via);
  try {
    const back = await open(cfg.back);
    try {
      const out: string[][] = texts.map(() => []);
      for (let k = 0; k < cfg.n_aug; k++) {
        for (let start = 0; start < texts.length; start += cfg.batch_size) {
          const batch = texts.slice(start, start + cfg.batch_size);
          // One seed per copy, batch and direction: the draws do not depend on what ran before.
          const seed = (direction: number) => counterSeed(o.seed, STREAM, k, start, direction);
          const pivot = await translate(via, batch, cfg, seed(0));
          const round = await translate(back, pivot, cfg, seed(1));
          for (const [i, text] of round.entries()) out[start + i]?.push(text);
        }
      }
      mkdirSync(o.cacheDir, { recursive: true });
      writeTextAtomic(file, `${JSON.stringify({ key, texts: texts.length, n_aug: cfg.n_aug, out })}\n`);
      o.log?.(
        `back-translation: ${texts.length} texts × ${cfg.n_aug} round trips in ${Math.round(performance.now() - t0)} ms (cached in ${file})`,
      );
      return out;
    } finally {
      await back.model.dispose();
    }
  } finally {
    await via.model.dispose();
  }
}

async function translate(
  d: Direction,
  texts: readonly string[],
  cfg: BackTranslationSettings,
  seed: number,
): Promise<string[]> {
  const generated = await d.model.generate(
    texts.map((t) => d.prefix + t),
    {
      ...(cfg.max_new_tokens === undefined ? {} : { maxNewTokens: cfg.max_new_tokens }),
      // Sampled as transformers' generate(do_sample=True, temperature=T) (its top_k default included).
      ...(cfg.temperature > 0 ? { doSample: true, temperature: cfg.temperature, seed } : { doSample: false }),
    },
  );
  return generated.map((g) => g.text.trim());
}

/** A complete cache entry of the expected shape, or undefined (absent, partial or another key's). */
function readEntry(file: string, texts: number, nAug: number): string[][] | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const entry = JSON.parse(readFileSync(file, 'utf8')) as { texts: number; n_aug: number; out: string[][] };
    const ok =
      entry.texts === texts &&
      entry.n_aug === nAug &&
      Array.isArray(entry.out) &&
      entry.out.length === texts &&
      entry.out.every((r) => Array.isArray(r) && r.length === nAug && r.every((t) => typeof t === 'string'));
    return ok ? entry.out : undefined;
  } catch {
    return undefined;
  }
}
