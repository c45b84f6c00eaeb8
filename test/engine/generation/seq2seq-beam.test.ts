import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type LoadedSeq2Seq, loadSeq2Seq } from '../../../src/engine/inference/seq2seq-model.js';
import { loadPretrained } from '../../../src/engine/io/pretrained.js';
import type { Weights } from '../../../src/engine/models/model.js';
import type { T5Arch } from '../../../src/engine/models/t5/arch.js';
import type { Seq2SeqSearchOptions } from '../../../src/engine/tasks/seq2seq/generation-config.js';
import { writeTinyT5 } from '../../fixtures/tiny-t5.js';
import { referenceT5Logits } from '../helpers/t5-reference.js';

/**
 * Beam search on a tiny random T5 with a 4-token vocabulary (0 = pad = decoder start, 1 = EOS,
 * 2, 3), against two references that compute every prefix's logits from scratch with the
 * float64 plain-loop T5 of helpers/t5-reference.ts (no KV cache, no graph):
 *
 * - an exhaustive search over every sequence of up to max_new_tokens tokens, scored as
 *   transformers' BeamHypotheses scores them. With num_beams ≥ every candidate of a step (4 · 3²
 *   = 36 for 3 new tokens) transformers' `_beam_search` prunes nothing, so its hypotheses are
 *   exactly the exhaustive ranking;
 * - with fewer beams, transformers' `_beam_search` + `BeamSearchScorer.process/finalize` +
 *   `BeamHypotheses.add/is_done` (generation/utils.py and beam_search.py, 4.4x) re-implemented
 *   here in plain loops over sorted candidate lists.
 */

const V = 4;
const EOS = 1;
let dir = '';
let model: LoadedSeq2Seq;
let arch: T5Arch;
let weights: Weights;
const SOURCES = [
  [2, 3, 3, 1],
  [3, 2, 1],
  [2, 2, 3, 2, 3, 1],
  [3, 1],
  [0, 3, 2, 1],
  [3, 3, 2, 1],
];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'seq2seq-beam-'));
  const config = writeTinyT5(dir, { seed: 7, config: { vocab_size: V, d_model: 16, d_kv: 4, num_heads: 4 } });
  model = await loadSeq2Seq(dir, { threads: 1 });
  arch = model.seq2seq.arch as T5Arch;
  weights = loadPretrained(dir, model.seq2seq.params, { basePrefix: '' }).weights;
  assert.equal(config.vocab_size, V);
});

after(async () => {
  await model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

interface Ref {
  numBeams: number;
  lengthPenalty: number;
  earlyStopping: boolean | 'never';
  maxNewTokens: number;
  numReturnSequences: number;
  noRepeatNgramSize: number;
  minLength: number;
  forcedBosTokenId: number | null;
  forcedEosTokenId: number | null;
}
const DEFAULTS: Ref = {
  numBeams: 36,
  lengthPenalty: 1,
  earlyStopping: false,
  maxNewTokens: 3,
  numReturnSequences: 5,
  noRepeatNgramSize: 0,
  minLength: 0,
  forcedBosTokenId: null,
  forcedEosTokenId: null,
};

const cache = new Map<string, number[]>();
/** log_softmax of the last position's float64 logits, recomputed from the whole prefix. */
function logProbs(source: readonly number[], prefix: readonly number[]): number[] {
  const key = `${source.join(',')}|${prefix.join(',')}`;
  const hit = cache.get(key);
  if (hit) return [...hit];
  const logits = referenceT5Logits(arch, weights, source, prefix).at(-1) as number[];
  const max = Math.max(...logits);
  const lse = max + Math.log(logits.reduce((a, x) => a + Math.exp(x - max), 0));
  const out = logits.map((x) => x - lse);
  cache.set(key, out);
  return [...out];
}

/** The logits processors, written out: no-repeat n-grams, min_length, forced BOS, forced EOS. */
function processed(source: readonly number[], seq: readonly number[], r: Ref): number[] {
  const scores = logProbs(source, seq);
  const n = r.noRepeatNgramSize;
  if (n > 0 && seq.length + 1 >= n) {
    const tail = seq.slice(seq.length - (n - 1)).join(',');
    for (let i = 0; i + n <= seq.length; i++)
      if (seq.slice(i, i + n - 1).join(',') === tail) scores[seq[i + n - 1] as number] = -Infinity;
  }
  if (seq.length < r.minLength) scores[EOS] = -Infinity;
  const force = (id: number) => {
    for (let v = 0; v < V; v++) scores[v] = v === id ? 0 : -Infinity;
  };
  if (r.forcedBosTokenId !== null && seq.length === 1) force(r.forcedBosTokenId);
  if (r.forcedEosTokenId !== null && seq.length === r.maxNewTokens) force(r.forcedEosTokenId);
  return scores;
}

interface Hyp {
  ids: number[];
  score: number;
}

/** Every sequence, best first: an EOS at cur_len t scores sum / t^lp; one cut at max_length, sum / max_new^lp. */
function exhaustive(source: readonly number[], r: Ref): Hyp[] {
  const found: Hyp[] = [];
  const walk = (seq: number[], sum: number) => {
    const t = seq.length;
    processed(source, seq, r).forEach((lp, v) => {
      if (lp === -Infinity) return;
      const score = (sum + lp) / t ** r.lengthPenalty;
      if (v === EOS) found.push({ ids: seq.slice(1), score });
      else if (t + 1 === r.maxNewTokens + 1) found.push({ ids: [...seq.slice(1), v], score });
      else walk([...seq, v], sum + lp);
    });
  };
  walk([0], 0);
  return found.sort((a, b) => b.score - a.score);
}

/** transformers' _beam_search for one source, in plain loops (see the file comment). */
function hfBeamSearch(source: readonly number[], r: Ref): Hyp[] {
  const nb = r.numBeams;
  const maxLength = r.maxNewTokens + 1;
  let beams = Array.from({ length: nb }, (_, k) => ({ seq: [0], score: k === 0 ? 0 : -1e9 }));
  const hyps: Hyp[] = [];
  let worst = 1e9;
  const add = (ids: number[], sum: number, len: number) => {
    const score = sum / len ** r.lengthPenalty;
    if (hyps.length < nb || score > worst) {
      hyps.push({ ids, score });
      if (hyps.length > nb) {
        const order = hyps.map((h, i) => ({ s: h.score, i })).sort((a, b) => a.s - b.s || a.i - b.i);
        hyps.splice((order[0] as { i: number }).i, 1);
        worst = (order[1] as { s: number }).s;
      } else worst = Math.min(worst, score);
    }
  };
  let done = false;
  for (let cur = 1; cur < maxLength && !done; cur++) {
    const candidates = beams.flatMap((b, k) =>
      processed(source, b.seq, r).map((lp, v) => ({ score: b.score + lp, k, v, index: k * V + v })),
    );
    candidates.sort((a, b) => b.score - a.score || a.index - b.index);
    const next: typeof beams = [];
    for (const [rank, c] of candidates.slice(0, 2 * nb).entries()) {
      const beam = beams[c.k] as { seq: number[] };
      if (c.v === EOS) {
        if (rank < nb) add(beam.seq.slice(1), c.score, cur);
      } else next.push({ seq: [...beam.seq, c.v], score: c.score });
      if (next.length === nb) break;
    }
    const best = (candidates[0] as { score: number }).score;
    if (hyps.length >= nb) {
      if (r.earlyStopping === true) done = true;
      else {
        const denominator = r.earlyStopping === 'never' && r.lengthPenalty > 0 ? maxLength - 1 : cur;
        done = worst >= best / denominator ** r.lengthPenalty;
      }
    }
    beams = next;
  }
  if (!done) for (const b of beams) add(b.seq.slice(1), b.score, b.seq.length - 1);
  return hyps
    .map((h, i) => ({ h, i }))
    .sort((a, b) => b.h.score - a.h.score || b.i - a.i)
    .map((x) => x.h);
}

function options(r: Ref): Seq2SeqSearchOptions {
  return {
    numBeams: r.numBeams,
    lengthPenalty: r.lengthPenalty,
    earlyStopping: r.earlyStopping,
    maxNewTokens: r.maxNewTokens,
    numReturnSequences: r.numReturnSequences,
    noRepeatNgramSize: r.noRepeatNgramSize,
    minLength: r.minLength,
  };
}

/** The engine's beam search (cached decoder, all sources in one batch), num_return_sequences per source. */
async function engineBeams(r: Ref, o: { useCache?: boolean; sources?: number[][] } = {}): Promise<Hyp[][]> {
  const sources = o.sources ?? SOURCES;
  const saved = { ...model.defaults };
  // Forced ids come from the generation config, not from call options (transformers reads them there).
  Object.assign(model.defaults, {
    forcedBosTokenId: r.forcedBosTokenId,
    forcedEosTokenIds: r.forcedEosTokenId === null ? [] : [r.forcedEosTokenId],
  });
  try {
    const out = await model.generate(sources, { ...options(r), useCache: o.useCache ?? true });
    const n = r.numReturnSequences;
    return sources.map((_, b) => out.slice(b * n, (b + 1) * n).map((g) => ({ ids: g.ids, score: g.score as number })));
  } finally {
    Object.assign(model.defaults, saved);
  }
}

function assertSame(actual: Hyp[], expected: Hyp[], what: string): void {
  assert.deepEqual(
    actual.map((h) => h.ids),
    expected.map((h) => h.ids),
    what,
  );
  actual.forEach((h, i) => {
    const e = (expected[i] as Hyp).score;
    assert.ok(Math.abs(h.score - e) < 1e-4 * Math.max(1, Math.abs(e)), `${what}: score ${h.score} vs ${e}`);
  });
}

const best = (hyps: Hyp[]) => (hyps[0] as Hyp).ids.join(' ');

const EXHAUSTIVE_CASES: [string, Partial<Ref>][] = [
  ['length_penalty 1', {}],
  ['length_penalty 0', { lengthPenalty: 0 }],
  ['length_penalty 2 (favours long)', { lengthPenalty: 2 }],
  ['length_penalty -1 (favours short)', { lengthPenalty: -1 }],
  ['min_length 3', { minLength: 3 }],
  ['no_repeat_ngram_size 1', { noRepeatNgramSize: 1 }],
  ['no_repeat_ngram_size 2', { noRepeatNgramSize: 2 }],
  ['forced_bos_token_id 3', { forcedBosTokenId: 3 }],
  ['forced_eos_token_id', { forcedEosTokenId: EOS }],
];

test('beam search with num_beams >= every candidate equals the exhaustive search (length_penalty, min_length, no_repeat_ngram, forced BOS/EOS)', async () => {
  const bestOf = new Map<string, string[]>();
  for (const [name, over] of EXHAUSTIVE_CASES) {
    const r = { ...DEFAULTS, ...over };
    const engine = await engineBeams(r);
    const expected = SOURCES.map((s) => exhaustive(s, r).slice(0, r.numReturnSequences));
    for (const [b, hyps] of engine.entries()) assertSame(hyps, expected[b] as Hyp[], `${name}, source ${b}`);
    bestOf.set(name, expected.map(best));
  }
  // Each option changes the best sequence of at least one source (else the case would prove nothing).
  const base = bestOf.get('length_penalty 1') as string[];
  for (const [name] of EXHAUSTIVE_CASES.slice(1))
    assert.notDeepEqual(bestOf.get(name), base, `${name} changes no result: ${base.join(' | ')}`);
  const forced = bestOf.get('forced_bos_token_id 3') as string[];
  assert.ok(
    forced.every((ids) => ids.startsWith('3')),
    forced.join(' | '),
  );
});

test('beam search with few beams follows transformers step by step; early_stopping true / false / never', async () => {
  const cases: [string, Partial<Ref>][] = [
    ['2 beams', { numBeams: 2, numReturnSequences: 2, maxNewTokens: 6 }],
    ['3 beams, early_stopping true', { numBeams: 3, earlyStopping: true, numReturnSequences: 3, maxNewTokens: 6 }],
    ['3 beams, early_stopping never', { numBeams: 3, earlyStopping: 'never', numReturnSequences: 3, maxNewTokens: 6 }],
    [
      '2 beams, never, length_penalty 2',
      { numBeams: 2, earlyStopping: 'never', lengthPenalty: 2, numReturnSequences: 1, maxNewTokens: 6 },
    ],
    ['2 beams, true, length_penalty -1', { numBeams: 2, earlyStopping: true, lengthPenalty: -1, maxNewTokens: 6 }],
    ['4 beams, no_repeat 2, min_length 4', { numBeams: 4, noRepeatNgramSize: 2, minLength: 4, maxNewTokens: 7 }],
  ];
  const results = new Map<string, Hyp[][]>();
  for (const [name, over] of cases) {
    const r = { ...DEFAULTS, numReturnSequences: 1, ...over };
    const engine = await engineBeams(r);
    const expected = SOURCES.map((s) => hfBeamSearch(s, r).slice(0, r.numReturnSequences));
    for (const [b, hyps] of engine.entries()) assertSame(hyps, expected[b] as Hyp[], `${name}, source ${b}`);
    results.set(name, expected);
  }
  // early_stopping true stops at num_beams finished hypotheses; never searches on and finds better ones.
  const eager = results.get('3 beams, early_stopping true') as Hyp[][];
  const never = results.get('3 beams, early_stopping never') as Hyp[][];
  assert.ok(
    eager.some((h, b) => best(h) !== best(never[b] as Hyp[])),
    'early_stopping true and never agree on every source',
  );
  for (const [b, h] of eager.entries()) assert.ok(((never[b] as Hyp[])[0] as Hyp).score >= (h[0] as Hyp).score - 1e-9);
});

test('beam search: the KV cache reordered per step gives what recomputing the prefix gives', async () => {
  const r = { ...DEFAULTS, numBeams: 3, numReturnSequences: 3, maxNewTokens: 6, noRepeatNgramSize: 3 };
  const cached = await engineBeams(r);
  const recomputed = await engineBeams(r, { useCache: false });
  for (const [b, hyps] of cached.entries()) assertSame(hyps, recomputed[b] as Hyp[], `source ${b}`);
});

test('beam search: a batch of sources of different lengths gives what each source alone gives', async () => {
  const r = { ...DEFAULTS, numBeams: 3, numReturnSequences: 2, maxNewTokens: 6, earlyStopping: true };
  const batched = await engineBeams(r);
  for (const [b, source] of SOURCES.entries()) {
    const [alone] = await engineBeams(r, { sources: [source] });
    assertSame(batched[b] as Hyp[], alone as Hyp[], `source ${b}`);
  }
});

test('greedy is beam search with one beam; sampling is reproducible by seed and top_k 1 is greedy', async () => {
  const greedy = await model.generate(SOURCES, { maxNewTokens: 6, numBeams: 1 });
  const beam1 = SOURCES.map((s) => hfBeamSearch(s, { ...DEFAULTS, numBeams: 1, maxNewTokens: 6 })[0] as Hyp);
  assert.deepEqual(
    greedy.map((g) => g.ids),
    beam1.map((h) => h.ids),
  );
  const sampled = (seed: number, topK = 0) =>
    model.generate(SOURCES, { maxNewTokens: 6, doSample: true, temperature: 1.5, topK, seed });
  const a = await sampled(3);
  assert.deepEqual(await sampled(3), a);
  const draws = await Promise.all([1, 2, 4, 5].map((seed) => sampled(seed)));
  assert.ok(
    draws.some((d) => JSON.stringify(d) !== JSON.stringify(a)),
    'every seed drew the same',
  );
  assert.deepEqual(
    (await sampled(9, 1)).map((g) => g.ids),
    greedy.map((g) => g.ids),
  );
});

test('generation options are checked with their names', async () => {
  const bad: [Seq2SeqSearchOptions, RegExp][] = [
    [{ numBeams: 2, numReturnSequences: 3 }, /num_return_sequences \(3\) must be at most num_beams \(2\)/],
    [{ numBeams: 2, doSample: true }, /beam sampling\) is not supported/],
    [{ numBeams: 0 }, /num_beams must be a positive integer, got 0/],
    [{ earlyStopping: 'sometimes' as never }, /early_stopping must be true, false or "never"/],
    [{ topP: 0 }, /top_p must be in \(0, 1\]/],
  ];
  for (const [o, message] of bad) await assert.rejects(model.generate(SOURCES, o), message);
});

test('generation_config.json sets the search (num_beams, length_penalty, early_stopping, no_repeat_ngram_size, min_length, forced_bos_token_id); without it config.json does', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'seq2seq-gencfg-'));
  try {
    cpSync(dir, folder, { recursive: true });
    const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
    // Legacy generation keys in config.json (BART's and Marian's style): read only without generation_config.json.
    writeFileSync(
      join(folder, 'config.json'),
      JSON.stringify({ ...config, num_beams: 2, forced_eos_token_id: EOS, max_length: 5, length_penalty: 2 }),
    );
    const fromConfig = { ...DEFAULTS, numBeams: 2, forcedEosTokenId: EOS, maxNewTokens: 4, lengthPenalty: 2 };
    const generation = {
      num_beams: 3,
      length_penalty: 0.5,
      early_stopping: true,
      no_repeat_ngram_size: 2,
      min_length: 3,
      forced_bos_token_id: 2,
      max_new_tokens: 5,
    };
    const fromGeneration = {
      ...DEFAULTS,
      numBeams: 3,
      lengthPenalty: 0.5,
      earlyStopping: true,
      noRepeatNgramSize: 2,
      minLength: 3,
      forcedBosTokenId: 2,
      maxNewTokens: 5,
    };
    for (const [what, r] of [
      ['config.json', fromConfig],
      ['generation_config.json', fromGeneration],
    ] as const) {
      if (what === 'generation_config.json')
        writeFileSync(join(folder, 'generation_config.json'), JSON.stringify(generation));
      const m = await loadSeq2Seq(folder, { threads: 1 });
      try {
        const out = await m.generate(SOURCES);
        for (const [b, source] of SOURCES.entries())
          assertSame(
            [{ ids: out[b]?.ids as number[], score: out[b]?.score as number }],
            hfBeamSearch(source, { ...r, numReturnSequences: 1 }).slice(0, 1),
            `${what}, source ${b}`,
          );
      } finally {
        await m.dispose();
      }
    }
    writeFileSync(join(folder, 'generation_config.json'), JSON.stringify({ early_stopping: 'soon' }));
    await assert.rejects(
      loadSeq2Seq(folder),
      /generation_config\.json: key 'early_stopping' must be true, false or "never", got "soon"/,
    );
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('min_new_tokens N masks EOS as min_length N + 1 does (the decoder start token counts in min_length)', async () => {
  const r = { ...DEFAULTS, numBeams: 3, numReturnSequences: 3, maxNewTokens: 5 };
  const byNew = await model.generate(SOURCES, { ...options(r), minNewTokens: 3 });
  const byLength = await model.generate(SOURCES, { ...options(r), minLength: 4 });
  assert.deepEqual(byNew, byLength);
  assert.ok(byNew.every((g) => g.ids.length >= 3));
  assert.notDeepEqual(byNew, await model.generate(SOURCES, options(r)));
});
