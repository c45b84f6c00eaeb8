import type { ResolvedAugmentConfig, ResolvedDataConfig } from '../../shared/config.js';
import type { LabelSet } from '../data/labels.js';
import { type PreparedData, type PrepareOptions, prepareData } from '../data/prepare.js';
import type { Example, TextExample, TokensExample } from '../data/records.js';
import type { AugmentReport, AugmentSample, DataReport } from '../data/report.js';
import { counterSeed, rng } from '../util/random.js';
import { type BackTranslateOptions, type BackTranslationSettings, backTranslate } from './back-translation.js';
import { eda } from './eda.js';
import { mentionReplacement, mentionsByType, synonymReplaceOutside } from './token-ops.js';
import { type WordNet, wordNet } from './wordnet.js';

/**
 * data.augment applied to the training split: each example followed by its copies. A copy is a
 * pure function of training.seed, the example's place in the split and the copy's number (its own
 * random stream, counterSeed), so a resumed run, or `data augment --preview`, makes the same rows.
 * Copies equal to their original add nothing and are dropped (counted in the report).
 */
export const AUGMENT_SAMPLES = 5;

/** Stream numbers of the operations, so each draws from its own sequence. */
const STREAM = { eda: 1, synonyms: 2, mentions: 3 } as const; // back-translation.ts uses 4

type Maker = (example: Example, index: number, copy: number) => Example | undefined;

export interface AugmentOptions {
  seed: number;
  labels?: LabelSet;
  /** Back-translation's round trips per example (by index in the split; backTranslate computes them). */
  backTranslated?: readonly (readonly string[])[];
  /** Test hook: a WordNet other than the installed package's. */
  wordnet?: WordNet;
  samples?: number;
}

export function augmentTrain(
  train: readonly Example[],
  cfg: ResolvedAugmentConfig,
  opts: AugmentOptions,
): { train: Example[]; report: AugmentReport } {
  const tokens = train.some((e) => e.kind === 'tokens');
  const wordnet = (): WordNet => opts.wordnet ?? wordNet();
  const loadBefore = opts.wordnet || !cfg.eda ? undefined : wordnet().loadMs;
  const passes: { name: string; copies: number; make: Maker }[] = [];
  if (cfg.eda && tokens) {
    const alpha = cfg.eda.alpha_sr;
    if (alpha > 0)
      passes.push({
        name: `eda synonym replacement of O tokens (alpha_sr ${alpha})`,
        copies: cfg.eda.n_aug,
        make: (e, i, k) =>
          e.kind === 'tokens'
            ? {
                ...e,
                ...synonymReplaceOutside(wordnet(), e, alpha, rng(counterSeed(opts.seed, STREAM.synonyms, i, k))),
              }
            : undefined,
      });
  } else if (cfg.eda) {
    const rates = {
      alpha_sr: cfg.eda.alpha_sr,
      alpha_ri: cfg.eda.alpha_ri ?? 0,
      alpha_rs: cfg.eda.alpha_rs ?? 0,
      p_rd: cfg.eda.p_rd ?? 0,
    };
    const nAug = cfg.eda.n_aug;
    // eda() makes all n_aug sentences of an example from one stream; they are cached per example.
    let last: { index: number; sentences: string[] } | undefined;
    passes.push({
      name: `eda (n_aug ${nAug}, alpha_sr ${rates.alpha_sr}, alpha_ri ${rates.alpha_ri}, alpha_rs ${rates.alpha_rs}, p_rd ${rates.p_rd})`,
      copies: nAug,
      make: (e, i, k) => {
        if (e.kind !== 'text') return undefined;
        if (last?.index !== i) {
          last = {
            index: i,
            sentences: eda(wordnet(), e.text, rates, nAug, rng(counterSeed(opts.seed, STREAM.eda, i))),
          };
        }
        const text = last.sentences[k];
        return text === undefined ? undefined : ({ ...e, text } satisfies TextExample);
      },
    });
  }
  if (cfg.mention_replacement) {
    const { p, n_aug } = cfg.mention_replacement;
    const mentions = mentionsByType(train.filter((e): e is TokensExample => e.kind === 'tokens'));
    passes.push({
      name: `mention replacement (n_aug ${n_aug}, p ${p})`,
      copies: n_aug,
      make: (e, i, k) =>
        e.kind === 'tokens'
          ? { ...e, ...mentionReplacement(e, mentions, p, rng(counterSeed(opts.seed, STREAM.mentions, i, k))) }
          : undefined,
    });
  }

  const bt = opts.backTranslated;
  if (cfg.back_translation && bt) {
    const c = cfg.back_translation;
    passes.push({
      name: `back-translation (n_aug ${c.n_aug}, temperature ${c.temperature}) via ${c.via}, back ${c.back}`,
      copies: c.n_aug,
      make: (e, i, k) => {
        const text = bt[i]?.[k];
        return e.kind === 'text' && text ? { ...e, text } : undefined;
      },
    });
  }

  const out: Example[] = [];
  const samples: AugmentSample[] = [];
  let unchanged = 0;
  let unknownTags = 0;
  const known = opts.labels ? new Set(opts.labels.labels.map(String)) : undefined;
  train.forEach((example, i) => {
    out.push(example);
    const original = describe(example);
    const made: string[] = [];
    for (const pass of passes) {
      for (let k = 0; k < pass.copies; k++) {
        const copy = pass.make(example, i, k);
        if (!copy) continue;
        const text = describe(copy);
        if (text === original) {
          unchanged++;
          continue;
        }
        if (known && copy.kind === 'tokens' && copy.tags.some((t) => !known.has(String(t)))) {
          unknownTags++;
          continue;
        }
        out.push(copy);
        made.push(text);
      }
    }
    if (samples.length < (opts.samples ?? AUGMENT_SAMPLES) && made.length > 0)
      samples.push({ original, augmented: made });
  });
  const report: AugmentReport = {
    methods: passes.map((p) => p.name),
    before: train.length,
    after: out.length,
    unchanged,
    unknownTags,
    ...(loadBefore === undefined ? {} : { wordnetLoadMs: Math.round(wordnet().loadMs - loadBefore) }),
    samples,
  };
  return { train: out, report };
}

/** An example as one line: the text, or `token/TAG` pairs. */
export function describe(e: Example): string {
  if (e.kind === 'text') return e.text;
  if (e.kind === 'tokens')
    return e.tokens.map((t, i) => (String(e.tags[i]) === 'O' ? t : `${t}/${e.tags[i]}`)).join(' ');
  return JSON.stringify(e);
}

/** The cache folder's name beside the runs folder (`cache/back-translation/`). */
export const BACK_TRANSLATION_CACHE = 'back-translation';

/** What back-translation needs besides the config: where its cache is, and where models run. */
export type AugmentRuntime = Omit<BackTranslateOptions, 'seed'>;

/**
 * Prepared data with data.augment applied to its training split (validation untouched): the
 * report gains the augmentation's counts and samples, and sizes.train the copies.
 */
export async function augmentPrepared<P extends { train: Example[]; labels?: LabelSet; report: DataReport }>(
  prepared: P,
  cfg: ResolvedAugmentConfig | undefined,
  opts: Omit<AugmentOptions, 'labels' | 'backTranslated'> & { runtime?: AugmentRuntime },
): Promise<P> {
  if (!cfg || (!cfg.eda && !cfg.mention_replacement && !cfg.back_translation)) return prepared;
  const backTranslated = cfg.back_translation
    ? await backTranslateTrain(prepared.train, cfg.back_translation, opts.seed, opts.runtime)
    : undefined;
  const { train, report } = augmentTrain(prepared.train, cfg, {
    ...opts,
    ...(prepared.labels ? { labels: prepared.labels } : {}),
    ...(backTranslated ? { backTranslated } : {}),
  });
  return {
    ...prepared,
    train,
    report: { ...prepared.report, sizes: { ...prepared.report.sizes, train: train.length }, augment: report },
  };
}

/** The round trips of the split's texts, by example index (other kinds get none). */
async function backTranslateTrain(
  train: readonly Example[],
  cfg: BackTranslationSettings,
  seed: number,
  runtime: AugmentRuntime | undefined,
): Promise<string[][]> {
  if (!runtime) throw new Error('data.augment.back_translation: no cache folder given for its translations');
  const texts = train.flatMap((e) => (e.kind === 'text' ? [e.text] : []));
  const translated = await backTranslate(texts, cfg, { ...runtime, seed });
  let next = 0;
  return train.map((e) => (e.kind === 'text' ? (translated[next++] ?? []) : []));
}

/** prepareData, then data.augment on the training split (what training and `finetune data` run). */
export async function prepareAndAugment(
  cfg: ResolvedDataConfig,
  opts: PrepareOptions & { runtime?: AugmentRuntime },
): Promise<PreparedData> {
  return augmentPrepared(await prepareData(cfg, opts), cfg.augment, {
    seed: opts.seed,
    ...(opts.runtime ? { runtime: opts.runtime } : {}),
  });
}
