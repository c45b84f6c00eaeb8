import { encodeModel } from '../graph/onnx-codec.js';
import { readHfConfig } from '../io/hf-config.js';
import { loadPretrained } from '../io/pretrained.js';
import type { Seq2SeqFamily } from '../models/family.js';
import { HfConfigReader } from '../models/hf-config.js';
import { seq2seqFamilyOf } from '../models/registry.js';
import type { Seq2Seq } from '../models/seq2seq.js';
import { createSession, type DeviceChoice, type SessionOptions } from '../runtime.js';
import { type ChooseToken, generateIds, type Seq2SeqSessions } from '../tasks/seq2seq/generate.js';
import {
  resolveSearch,
  type Seq2SeqSearch,
  type Seq2SeqSearchOptions,
  seq2seqGenerationDefaults,
} from '../tasks/seq2seq/generation-config.js';
import { decoderStepGraph, encoderGraph } from '../tasks/seq2seq/generation-graphs.js';
import { Tokenizer } from '../tokenize/index.js';
import { rng } from '../util/random.js';
import { modelFolderOf } from './finetuned-model.js';
import { nextToken } from './next-token.js';
import { hasSeq2SeqOnnxLayout, openSeq2SeqOnnxLayout, SEQ2SEQ_ONNX_FILES } from './seq2seq-onnx-layout.js';

/**
 * An encoder-decoder folder (T5ForConditionalGeneration: a translation or summarization run's
 * final/) generating text as transformers' `generate` does for it: greedy search, beam search
 * (num_beams > 1) or sampling (do_sample), with the defaults of the folder's generation config
 * (tasks/seq2seq/generation-config.ts) under the call's options. The search itself is
 * tasks/seq2seq/generate.ts, which the trainer's generating evaluation shares; sampling draws
 * with the causal LM's warpers (next-token.ts).
 */

export { crossName, decoderStepGraph, encoderGraph } from '../tasks/seq2seq/generation-graphs.js';
export { seq2seqGenerationDefaults };

export interface Seq2SeqGeneration {
  /** Generated ids, without the decoder start token and without the EOS that finished the row. */
  ids: number[];
  /** The decoded ids, special tokens skipped. */
  text: string;
  /** 'stop' when the row produced EOS, 'length' when max_new_tokens ended it (OpenAI's names). */
  finishReason: 'stop' | 'length';
  /** Beam search: the hypothesis' score (sum_logprobs / length ** length_penalty). */
  score?: number;
}

export interface Seq2SeqGenerationOptions extends Seq2SeqSearchOptions {
  /** KV cache (default true); false recomputes the whole decoder prefix every step. */
  useCache?: boolean;
}

export interface LoadedSeq2Seq {
  folder: string;
  tokenizer: Tokenizer;
  seq2seq: Seq2Seq;
  /** The folder's generation config (generation_config.json, else config.json's generation keys). */
  defaults: Seq2SeqSearch;
  /**
   * Generation for a batch of sources (texts, tokenized with their special tokens, or ids):
   * num_return_sequences results per source (1 unless beam search asks for more), in order.
   * Greedy and beam search give each source what it gets alone; sampling draws from one seeded
   * stream row after row, so a source's draw depends on its batch.
   */
  generate(
    sources: readonly (string | readonly number[])[],
    o?: Seq2SeqGenerationOptions,
  ): Promise<Seq2SeqGeneration[]>;
  dispose(): Promise<void>;
}

export async function loadSeq2Seq(
  path: string,
  o: { device?: DeviceChoice; threads?: number } = {},
): Promise<LoadedSeq2Seq> {
  const folder = modelFolderOf(path);
  const cfg = new HfConfigReader(readHfConfig(folder), `${folder}/config.json`);
  const family = seq2seqFamilyOf(cfg);
  const seq2seq = family.seq2seq(cfg);
  const tokenizer = Tokenizer.fromFolder(folder);
  const defaults = seq2seqGenerationDefaults(folder, seq2seq.arch);
  const options = { device: o.device ?? 'cpu', ...(o.threads ? { threads: o.threads } : {}) } as const;
  // An export in Optimum's layout runs its own files; a model folder builds the graphs from its weights.
  const sessions = hasSeq2SeqOnnxLayout(folder)
    ? await openSeq2SeqOnnxLayout(folder, seq2seq.arch, options)
    : await graphSessions(folder, family, seq2seq, options);

  async function generate(
    sources: readonly (string | readonly number[])[],
    g: Seq2SeqGenerationOptions = {},
  ): Promise<Seq2SeqGeneration[]> {
    const { useCache, ...overrides } = g;
    const search = resolveSearch(defaults, overrides);
    const rows = sources.map((s) => (typeof s === 'string' ? tokenizer.encode(s, null).ids : [...s]));
    const rand = rng(search.seed);
    const choose: ChooseToken | undefined = search.doSample
      ? (scores) =>
          nextToken(
            scores,
            { doSample: true, temperature: search.temperature, topK: search.topK, topP: search.topP },
            rand,
          )
      : undefined;
    const found = await generateIds(sessions, seq2seq.arch, rows, search, {
      useCache: useCache ?? true,
      ...(choose ? { choose } : {}),
    });
    return found.map((r) => ({ ...r, text: tokenizer.decode(r.ids, true) }));
  }

  return {
    folder,
    tokenizer,
    seq2seq,
    defaults,
    generate,
    async dispose() {
      await sessions.dispose();
    },
  };
}

/** The engine's own encoder and decoder-step graphs over a model folder's weights (safetensors). */
async function graphSessions(
  folder: string,
  family: Seq2SeqFamily,
  seq2seq: Seq2Seq,
  options: SessionOptions,
): Promise<Seq2SeqSessions & { dispose(): Promise<void> }> {
  const loaded = loadPretrained(folder, seq2seq.params, {
    basePrefix: family.basePrefix,
    tiedNames: seq2seq.tiedNames,
  });
  // A missing buffer (BART's final_logits_bias) starts at its init, as transformers' _keys_to_ignore_on_load_missing.
  const buffers = new Set(seq2seq.params.filter((p) => p.buffer).map((p) => p.name));
  const missing = loaded.missing.filter((n) => !buffers.has(n));
  if (missing.length > 0)
    throw new Error(
      `${folder}: the checkpoint lacks ${missing.join(', ')}: not a complete ${family.name} model (an ONNX export needs ${Object.values(SEQ2SEQ_ONNX_FILES).join(', ')})`,
    );
  const encoder = await createSession(encodeModel(encoderGraph(seq2seq, loaded.weights)), options);
  const decoder = await createSession(encodeModel(decoderStepGraph(seq2seq, loaded.weights)), options).catch(
    async (err: unknown) => {
      await encoder.dispose();
      throw err;
    },
  );
  return {
    encoder,
    decoder,
    async dispose() {
      await Promise.allSettled([encoder.dispose(), decoder.dispose()]);
    },
  };
}
