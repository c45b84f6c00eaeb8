import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_MODEL_JSON_BYTES } from '../../../shared/limits.js';
import { eosIdList } from '../../chat/generation-config.js';
import type { Seq2SeqArch } from '../../models/seq2seq.js';
import { readJsonBounded } from '../../util/bounded-read.js';

/**
 * How an encoder-decoder generates: transformers' GenerationConfig keys that greedy search, beam
 * search and sampling read, as `generate()` resolves them: generation_config.json when the folder
 * has one, else the generation keys of config.json (`GenerationConfig.from_model_config`: BART
 * and Marian configs carry num_beams, forced_eos_token_id, ...), else GenerationConfig's defaults.
 * Options given to a call (the CLI's flags, eval.num_beams) override them key by key.
 */
export interface Seq2SeqSearch {
  decoderStartTokenId: number;
  /** Ids that finish a row (eos_token_id, a number or a list). */
  eosTokenIds: number[];
  padTokenId: number;
  /** max_new_tokens, else max_length − 1 (max_length counts the decoder start token), else 19 (max_length 20). */
  maxNewTokens: number;
  /** 1: greedy (or sampling); more: beam search. */
  numBeams: number;
  /** Beam scores are sum_logprobs / length ** length_penalty (> 0 favours longer, < 0 shorter). */
  lengthPenalty: number;
  /** true: stop at num_beams finished hypotheses; false: transformers' heuristic; 'never': the exact bound. */
  earlyStopping: boolean | 'never';
  /** Finished hypotheses returned per source (beam search; ≤ num_beams). */
  numReturnSequences: number;
  /** n-grams of this size occur at most once in a generated sequence (0: off). */
  noRepeatNgramSize: number;
  /** EOS is masked while the decoder input (start token included) is shorter than this. */
  minLength: number;
  /** EOS is masked while fewer tokens than this were generated (0: off). */
  minNewTokens: number;
  /** The first generated token is forced to it (mBART's target language). */
  forcedBosTokenId: number | null;
  /** The token at max_new_tokens is forced to one of these (BART: EOS). Empty: off. */
  forcedEosTokenIds: number[];
  doSample: boolean;
  temperature: number;
  /** GenerationConfig's default is 50; 0: no limit. */
  topK: number;
  topP: number;
  /** Seed of the sampling draws. */
  seed: number;
}

/** What a call may override (the CLI's flags, the trainer's eval.* keys). */
export type Seq2SeqSearchOptions = Partial<
  Omit<Seq2SeqSearch, 'decoderStartTokenId' | 'padTokenId' | 'eosTokenIds' | 'forcedBosTokenId' | 'forcedEosTokenIds'>
>;

/** The generation keys of a model folder (generation_config.json, else config.json), checked. */
export function seq2seqGenerationDefaults(folder: string, arch: Seq2SeqArch): Seq2SeqSearch {
  const own = join(folder, 'generation_config.json');
  const path = existsSync(own) ? own : join(folder, 'config.json');
  const config = existsSync(path)
    ? (readJsonBounded(path, MAX_MODEL_JSON_BYTES, 'a generation config') as Record<string, unknown>)
    : {};
  const bad = (key: string, what: string): never => {
    throw new Error(`${path}: key '${key}' must be ${what}, got ${JSON.stringify(config[key])}`);
  };
  const given = (key: string) => config[key] !== undefined && config[key] !== null;
  const int = (key: string, min: number): number | undefined => {
    if (!given(key)) return undefined;
    const v = config[key];
    return Number.isInteger(v) && (v as number) >= min ? (v as number) : bad(key, `an integer >= ${min}`);
  };
  const num = (key: string, ok: (v: number) => boolean, what: string): number | undefined => {
    if (!given(key)) return undefined;
    const v = config[key];
    return typeof v === 'number' && ok(v) ? v : bad(key, what);
  };
  const earlyStopping = (): boolean | 'never' => {
    const v = config.early_stopping;
    if (!given('early_stopping')) return false;
    return v === true || v === false || v === 'never' ? v : bad('early_stopping', 'true, false or "never"');
  };
  const maxNew = int('max_new_tokens', 0);
  const maxLength = int('max_length', 1);
  let eosTokenIds = eosIdList(config.eos_token_id, path);
  if (eosTokenIds.length === 0 && arch.eosTokenId !== null) eosTokenIds = [arch.eosTokenId];
  return {
    decoderStartTokenId: int('decoder_start_token_id', 0) ?? arch.decoderStartTokenId,
    eosTokenIds: [...new Set(eosTokenIds)],
    padTokenId: int('pad_token_id', 0) ?? arch.padTokenId,
    maxNewTokens: maxNew ?? (maxLength ?? 20) - 1,
    numBeams: int('num_beams', 1) ?? 1,
    lengthPenalty: num('length_penalty', Number.isFinite, 'a number') ?? 1,
    earlyStopping: earlyStopping(),
    numReturnSequences: int('num_return_sequences', 1) ?? 1,
    noRepeatNgramSize: int('no_repeat_ngram_size', 0) ?? 0,
    minLength: int('min_length', 0) ?? 0,
    minNewTokens: int('min_new_tokens', 0) ?? 0,
    forcedBosTokenId: int('forced_bos_token_id', 0) ?? null,
    forcedEosTokenIds: eosIdList(config.forced_eos_token_id, path),
    doSample: given('do_sample') ? config.do_sample === true : false,
    temperature: num('temperature', (v) => v >= 0 && Number.isFinite(v), 'a number >= 0') ?? 1,
    topK: int('top_k', 0) ?? 50,
    topP: num('top_p', (v) => v > 0 && v <= 1, 'a number in (0, 1]') ?? 1,
    seed: 0,
  };
}

/** The defaults with a call's options over them, checked together (transformers' GenerationConfig.validate). */
export function resolveSearch(defaults: Seq2SeqSearch, o: Seq2SeqSearchOptions = {}): Seq2SeqSearch {
  const defined = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const s: Seq2SeqSearch = { ...defaults, ...defined };
  const bad = (what: string): never => {
    throw new Error(`generation: ${what}`);
  };
  const isInt = (v: number, min: number) => Number.isInteger(v) && v >= min;
  if (!isInt(s.maxNewTokens, 0)) bad(`max_new_tokens must be a non-negative integer, got ${s.maxNewTokens}`);
  if (!isInt(s.numBeams, 1)) bad(`num_beams must be a positive integer, got ${s.numBeams}`);
  if (!isInt(s.numReturnSequences, 1))
    bad(`num_return_sequences must be a positive integer, got ${s.numReturnSequences}`);
  if (s.numReturnSequences > s.numBeams)
    bad(`num_return_sequences (${s.numReturnSequences}) must be at most num_beams (${s.numBeams})`);
  if (!isInt(s.noRepeatNgramSize, 0))
    bad(`no_repeat_ngram_size must be a non-negative integer, got ${s.noRepeatNgramSize}`);
  if (!isInt(s.minLength, 0)) bad(`min_length must be a non-negative integer, got ${s.minLength}`);
  if (!isInt(s.minNewTokens, 0)) bad(`min_new_tokens must be a non-negative integer, got ${s.minNewTokens}`);
  if (!Number.isFinite(s.lengthPenalty)) bad(`length_penalty must be a number, got ${s.lengthPenalty}`);
  if (!(s.earlyStopping === true || s.earlyStopping === false || s.earlyStopping === 'never'))
    bad(`early_stopping must be true, false or "never", got ${JSON.stringify(s.earlyStopping)}`);
  if (!(s.temperature >= 0 && Number.isFinite(s.temperature))) bad(`temperature must be >= 0, got ${s.temperature}`);
  if (!isInt(s.topK, 0)) bad(`top_k must be a non-negative integer, got ${s.topK}`);
  if (!(s.topP > 0 && s.topP <= 1)) bad(`top_p must be in (0, 1], got ${s.topP}`);
  if (!Number.isInteger(s.seed)) bad(`seed must be an integer, got ${s.seed}`);
  if (s.doSample && s.numBeams > 1)
    bad('do_sample with num_beams > 1 (beam sampling) is not supported: sample with num_beams 1 (--num-beams 1)');
  if (s.numReturnSequences > 1 && s.numBeams === 1)
    bad('num_return_sequences > 1 needs beam search (num_beams >= num_return_sequences)');
  return s;
}
