import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatStopReason, FinishReason } from '../../shared/chat-protocol.js';
import { GraphBuilder } from '../graph/builder.js';
import { Graph, pruneToOutputs } from '../graph/graph.js';
import { encodeModel } from '../graph/onnx-codec.js';
import { quantizeDynamicInt8 } from '../graph/quantize-int8.js';
import { type TensorData, tensorNumbers, tensorOf, type Value } from '../graph/types.js';
import { readHfConfig } from '../io/hf-config.js';
import { loadPretrained } from '../io/pretrained.js';
import {
  type CausalLmModel,
  causalLmModel,
  contextLength,
  type Decoder,
  type DecoderArch,
  type KeyValue,
  lmLoss,
  pastName,
  presentName,
} from '../models/decoder.js';
import { HfConfigReader } from '../models/hf-config.js';
import { frozenParams, type Weights } from '../models/model.js';
import { decoderFamilyOf } from '../models/registry.js';
import { createSession, type DeviceChoice, type Session } from '../runtime.js';
import { collateLm, type LmExample, lmEosId, lmPadId, predictedTokens } from '../tasks/causal-lm/recipe.js';
import { lmScores, type NllBatch } from '../tasks/metrics/perplexity.js';
import { TASKS } from '../tasks/registry.js';
import { Tokenizer } from '../tokenize/index.js';
import { modelFolderOf, type Quantize, taskOf } from './finetuned-model.js';
import { GenerationRow } from './generation-row.js';
import { type DecodingOptions, nextToken } from './next-token.js';

export { frozenParams, nextToken, pastName, presentName };

/**
 * A causal LM folder (GPT2LMHeadModel: a run's final/ or a Hugging Face GPT-2 folder) for
 * `evaluate`, `predict` (generation) and `export`.
 *
 * Generation uses a KV cache: a separate inference graph (`decoderGraph`) takes the keys and values
 * of the earlier positions as inputs (`past_key_values.<i>.key|value`, [B, heads, P, head_dim],
 * P = 0 on the first call) and returns them extended by the new tokens (`present.<i>.key|value`),
 * with the logits of the last position only. The prompt runs once; each new token then costs one
 * position's forward instead of the whole prefix. `useCache: false` recomputes the prefix every
 * token through the same graph (P = 0), which the tests use to check the cache.
 */

/** Whether a model folder (or run directory) holds a causal LM: GPT2LMHeadModel / *ForCausalLM, or a decoder's base model. */
export function isCausalLmFolder(path: string): boolean {
  let folder: string;
  try {
    folder = modelFolderOf(path);
  } catch {
    return false;
  }
  if (!existsSync(join(folder, 'config.json'))) return false;
  try {
    return TASKS[taskOf(readHfConfig(folder), folder)].inference === 'generation';
  } catch {
    return false;
  }
}

export interface GenerationOptions extends DecodingOptions {
  /** Tokens to generate at most (default 50); generation also stops at EOS and at n_positions. */
  maxNewTokens?: number;
  /** Seed of the sampling (default 0): the same seed gives the same text. */
  seed?: number;
  /** KV cache (default true); false recomputes the whole prefix per token. */
  useCache?: boolean;
  /** Overrides the stop token (config.json's eos_token_id, else the tokenizer's EOS). null: never stop early. */
  eosTokenId?: number | null;
  /** More ids that end the generation like EOS (generation_config.json's eos_token_id list). */
  stopTokenIds?: readonly number[];
  /**
   * Generation ends as soon as the decoded text contains one of these (OpenAI's / vLLM's `stop`);
   * the returned text is cut before it (the stop string is not included).
   */
  stopStrings?: readonly string[];
  /** Called with each generated token id as it is chosen; not with the EOS that stops it. */
  onToken?: (id: number) => void;
  /**
   * Called with text deltas as they become final (streaming): never half a character, never text
   * that may still turn out to be part of a stop string. They concatenate to the result's `text`.
   */
  onText?: (delta: string) => void;
  /** Checked before each token: aborted, generation ends with stoppedBy 'stopped'. */
  signal?: AbortSignal;
}

export interface Generation {
  /** Generated token ids, without the prompt and without the EOS that stopped it (with the tokens of a stop string). */
  ids: number[];
  /** The decoded continuation (special tokens skipped), cut before a stop string. */
  text: string;
  stoppedBy: ChatStopReason;
  /** OpenAI's name for why it ended (finishReasonOf(stoppedBy)). */
  finishReason: FinishReason;
}

export interface LoadedCausalLm {
  folder: string;
  tokenizer: Tokenizer;
  model: CausalLmModel;
  arch: DecoderArch;
  /** `architectures[0]` of the family's LM class (GPT2LMHeadModel), written by export. */
  architecture: string;
  weights: Weights;
  eosTokenId: number | null;
  padId: number;
  /** Token-weighted loss and perplexity of texts, each tokenized alone, truncated only at n_positions. */
  evaluateTexts(
    texts: readonly string[],
  ): Promise<{ loss: number; perplexity: number; tokens: number; truncated: number }>;
  generate(prompt: string | readonly number[], o?: GenerationOptions): Promise<Generation>;
  /** A row of `generate` not yet run, for a caller that batches rows (continuous-batcher.ts). */
  newRow(prompt: string | readonly number[], o: GenerationOptions): GenerationRow;
  /** The KV-cached decoder graph's session (decoderGraph), created on first use. */
  decoderSession(): Promise<Session>;
  dispose(): Promise<void>;
}

/**
 * Evaluation graph: input_ids, attention_mask, labels (shifted, -100 where nothing is predicted)
 * -> `nll_sum`, the summed NLL of the batch (reduction 'sum'), so no logits leave the graph.
 */
export function evalSumGraph(decoder: Decoder, weights: Weights): Graph {
  const g = new GraphBuilder(new Graph('causal_lm_eval'));
  const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'seq']);
  const labels = g.input('labels', 'int64', ['batch', 'seq']);
  const ctx = decoder.context(g, frozenParams(g, weights), 'eval');
  const out = decoder.forward(ctx, { inputIds: ids, attentionMask: mask });
  const logits = decoder.lmHead(ctx, out.hidden);
  const sum = lmLoss(g, decoder.arch, logits, labels, 'sum');
  g.output(g.op('Identity', [sum], {}, { outputNames: ['nll_sum'] })[0] as Value);
  return pruneToOutputs(g.graph);
}

/**
 * The cached decoder: input_ids [B, T], attention_mask [B, P + T], position_ids [B, T] and the
 * past keys/values -> `logits` of the last position [B, 1, V] and the present keys/values.
 */
export function decoderGraph(decoder: Decoder, weights: Weights): Graph {
  const { arch } = decoder;
  const g = new GraphBuilder(new Graph('causal_lm_decoder'));
  const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'total']);
  const positions = g.input('position_ids', 'int64', ['batch', 'seq']);
  const past: KeyValue[] = Array.from({ length: arch.layers }, (_, i) => ({
    key: g.input(pastName(i, 'key'), 'float32', ['batch', arch.kvHeads, 'past', arch.headDim]),
    value: g.input(pastName(i, 'value'), 'float32', ['batch', arch.kvHeads, 'past', arch.headDim]),
  }));
  const ctx = decoder.context(g, frozenParams(g, weights), 'eval');
  const out = decoder.forward(ctx, { inputIds: ids, attentionMask: mask, positionIds: positions, past });
  const last = g.slice(out.hidden, [-1], [Number.MAX_SAFE_INTEGER], [1]); // [B, 1, H]
  const logits = decoder.lmHead(ctx, g.withShape(last, ['batch', 1, arch.hidden]));
  g.output(g.op('Identity', [logits], {}, { outputNames: ['logits'] })[0] as Value);
  out.present.forEach((kv, i) => {
    g.output(g.op('Identity', [kv.key], {}, { outputNames: [presentName(i, 'key')] })[0] as Value);
    g.output(g.op('Identity', [kv.value], {}, { outputNames: [presentName(i, 'value')] })[0] as Value);
  });
  return pruneToOutputs(g.graph);
}

const int64 = (dims: number[], values: ArrayLike<number>): TensorData => tensorOf('int64', dims, values);

/** Past keys/values of no position for `batch` rows: the decoder's first call. */
export function emptyPast(arch: DecoderArch, batch: number): Record<string, TensorData> {
  const empty: TensorData = {
    dtype: 'float32',
    dims: [batch, arch.kvHeads, 0, arch.headDim],
    data: new Float32Array(0),
  };
  const past: Record<string, TensorData> = {};
  for (let i = 0; i < arch.layers; i++) {
    past[pastName(i, 'key')] = empty;
    past[pastName(i, 'value')] = empty;
  }
  return past;
}

/** A decoder call's present keys/values, named as the next call's past. */
export function presentAsPast(arch: DecoderArch, out: Record<string, TensorData>): Record<string, TensorData> {
  const past: Record<string, TensorData> = {};
  for (let i = 0; i < arch.layers; i++)
    for (const kind of ['key', 'value'] as const) past[pastName(i, kind)] = out[presentName(i, kind)] as TensorData;
  return past;
}

/**
 * Opens a causal LM folder. `quantize: 'int8'` runs every linear layer (attention and MLP
 * projections and the LM head, tied or not: its product reads a constant weight) through the same
 * MatMulInteger rewrite as an encoder's (quantize-int8.ts), in the evaluation and the generation
 * graph alike; the embedding Gather keeps reading the float32 table, as ONNX Runtime's
 * quantize_dynamic leaves it.
 */
export async function loadCausalLm(
  path: string,
  o: { device?: DeviceChoice; threads?: number; quantize?: Quantize } = {},
): Promise<LoadedCausalLm> {
  const folder = modelFolderOf(path);
  const cfg = new HfConfigReader(readHfConfig(folder), `${folder}/config.json`);
  // XLNetLMHeadModel is a permutation LM: it scores masked positions, it does not continue text.
  if (cfg.str('model_type', '') === 'xlnet')
    throw new Error(
      `${folder}: an XLNet permutation LM (XLNetLMHeadModel) does not generate text; fine-tune it further or for a task (text-classification, token-classification, question-answering)`,
    );
  const family = decoderFamilyOf(cfg);
  const model = causalLmModel(family, { config: cfg });
  const arch = model.decoder.arch;
  const loaded = loadPretrained(folder, model.params, { basePrefix: family.basePrefix });
  if (loaded.missing.length > 0) {
    throw new Error(
      `${folder}: the checkpoint lacks ${loaded.missing.join(', ')}: not a complete ${family.name} model`,
    );
  }
  const tokenizer = Tokenizer.fromFolder(folder);
  const eosTokenId = lmEosId(tokenizer, arch.eosTokenId);
  const padId = lmPadId(tokenizer, eosTokenId);
  const weights = loaded.weights;
  const context = contextLength(arch);
  const device = o.device ?? 'cpu';
  const sessions: { evalSum?: Session; decoder?: Session } = {};
  const session = async (kind: 'evalSum' | 'decoder'): Promise<Session> => {
    const existing = sessions[kind];
    if (existing) return existing;
    const float = kind === 'evalSum' ? evalSumGraph(model.decoder, weights) : decoderGraph(model.decoder, weights);
    const graph = o.quantize === 'int8' ? quantizeDynamicInt8(float).graph : float;
    const created = await createSession(encodeModel(graph), { device, ...(o.threads ? { threads: o.threads } : {}) });
    sessions[kind] = created;
    return created;
  };

  async function evaluateTexts(texts: readonly string[]) {
    let truncated = 0;
    const examples: LmExample[] = texts.map((text) => {
      const ids = tokenizer.encode(text, null).ids;
      if (ids.length > context) truncated++;
      return { inputIds: ids.slice(0, context) };
    });
    // Similar lengths together, a bounded number of tokens per batch: padding and memory stay small.
    const scored = examples.filter((e) => predictedTokens(e) > 0).sort((a, b) => a.inputIds.length - b.inputIds.length);
    const s = await session('evalSum');
    const batches: NllBatch[] = [];
    const budget = 8192;
    for (let i = 0; i < scored.length; ) {
      const chunk: LmExample[] = [];
      while (i < scored.length && chunk.length < 32) {
        const next = scored[i] as LmExample;
        if (chunk.length > 0 && (chunk.length + 1) * next.inputIds.length > budget) break;
        chunk.push(next);
        i++;
      }
      const out = await s.run(collateLm(chunk, padId), ['nll_sum']);
      const nllSum = tensorNumbers(out.nll_sum as TensorData)[0] as number;
      batches.push({ nllSum, tokens: chunk.reduce((n, e) => n + predictedTokens(e), 0) });
    }
    const tokens = batches.reduce((n, b) => n + b.tokens, 0);
    return { ...lmScores(batches), tokens, truncated };
  }

  const rowContext = { tokenizer, eosTokenId, bosTokenId: arch.bosTokenId ?? null, context };

  async function generate(prompt: string | readonly number[], g: GenerationOptions = {}): Promise<Generation> {
    const row = new GenerationRow(prompt, g, rowContext);
    const s = await session('decoder');
    const useCache = g.useCache ?? true;
    let past = emptyPast(arch, 1);
    let pending = row.prompt; // tokens to feed in the next call
    while (!row.abortIfAsked()) {
      const total = row.length;
      const start = total - pending.length; // absolute position of pending[0]
      const out = await s.run({
        input_ids: int64([1, pending.length], pending),
        attention_mask: int64([1, total], new Array<number>(total).fill(1)),
        position_ids: int64(
          [1, pending.length],
          pending.map((_, t) => start + t),
        ),
        ...past,
      });
      row.accept(tensorNumbers(out.logits as TensorData));
      if (useCache) {
        past = presentAsPast(arch, out);
        pending = row.generated.slice(-1);
      } else {
        pending = [...row.prompt, ...row.generated];
      }
    }
    return row.finish();
  }

  return {
    folder,
    tokenizer,
    model,
    arch,
    architecture: family.causalLmArchitecture,
    weights,
    eosTokenId,
    padId,
    evaluateTexts,
    generate,
    newRow: (prompt, g) => new GenerationRow(prompt, g, rowContext),
    decoderSession: () => session('decoder'),
    async dispose() {
      await Promise.allSettled([sessions.evalSum?.dispose(), sessions.decoder?.dispose()]);
    },
  };
}
