import type { ResolvedCleanConfig } from '../../shared/config.js';
import type { CleanCounts } from '../data/clean.js';

/**
 * The messages between the corpus builder (pool.ts) and its tokenizer threads (worker.ts). A job
 * is a run of consecutive texts of the corpus; its result holds every kept text's tokens, so the
 * builder can append results in job order and the cache is the same whatever the thread count.
 */

/** How texts become token sequences: the part of the task's encoding that the cache holds. */
export interface CorpusEncoding {
  /** Truncate each text to this many tokens, specials included (run_mlm.py line_by_line); null: whole texts. */
  maxLength: number | null;
  /** Texts that are blank (whitespace only) are kept as texts with no tokens (line_by_line drops them). */
  blankAsEmpty: boolean;
}

export interface WorkerInit {
  tokenizerDir: string;
  clean: ResolvedCleanConfig;
  encoding: CorpusEncoding;
}

export interface JobRequest {
  id: number;
  texts: string[];
}

/** Bits of the per-token flags byte. */
export const TOKEN_SPECIAL = 1;
export const TOKEN_WORD_START = 2;

export interface JobResult {
  id: number;
  /** Texts of the job read (before cleaning drops any). */
  read: number;
  /** Tokens of each kept text (a text emptied by cleaning is not kept), in order. */
  lengths: Uint32Array;
  /** Token ids of the kept texts, concatenated. */
  ids: Uint32Array;
  /** Per token: TOKEN_SPECIAL, TOKEN_WORD_START. */
  flags: Uint8Array;
  /** Per kept text: the first 8 bytes of the SHA-1 of its cleaned text (exact dedup's hash), as 2 words. */
  hashes: Uint32Array;
  /** The cleaner's counts for this job's texts. */
  counts: CleanCounts;
}

export type WorkerReply = { kind: 'result'; result: JobResult } | { kind: 'error'; id: number; message: string };
