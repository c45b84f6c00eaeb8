import type { Decoder } from './decoder.js';
import type { AnyEncoderArch } from './encoder.js';
import type { Head } from './heads.js';
import type { HfConfigReader } from './hf-config.js';
import type { Activation, AdapterHook } from './layers.js';
import { ACTIVATIONS } from './layers.js';
import type { MaskedLmHead } from './mlm-head.js';
import type { Seq2Seq } from './seq2seq.js';

/**
 * What the engine knows about one Hugging Face model family: one folder per family under
 * `models/`, registered once in `registry.ts`. Every list keyed by `model_type` (base prefixes,
 * LoRA targets, exported architectures) is read from here, never written elsewhere.
 */
export interface FamilyInfo {
  /** The folder's name, used in messages. */
  name: string;
  /** `model_type` values in config.json. */
  modelTypes: readonly string[];
  /** transformers' `base_model_prefix`: the base model's weights inside a task model. */
  basePrefix: string;
  /** PEFT's default LoRA `target_modules` for the family (its attention projections). */
  loraTargets: readonly string[];
}

export type TaskHeadKind = 'sequence' | 'token' | 'qa';

/** A bidirectional encoder (BERT-like): a base model with task heads on top. */
export interface EncoderFamily extends FamilyInfo {
  kind: 'encoder';
  arch(cfg: HfConfigReader, dropoutOverride?: number): AnyEncoderArch;
  sequenceHead: Head;
  tokenHead: Head;
  /** Dropout before the head, from the config (overridden by training.dropout where the family reads one). */
  headDropout(cfg: HfConfigReader, task: TaskHeadKind, dropoutOverride?: number): number;
  /** `architectures` written into an exported config.json, per task head (by `model_type`). */
  architectures(modelType: string): { sequence: string; token: string; qa: string };
  /** The *ForMaskedLM head (task masked-lm), where the family has one. */
  maskedLmHead?: MaskedLmHead;
}

/** An autoregressive decoder (GPT-2-like) with a language-model head. */
export interface DecoderFamily extends FamilyInfo {
  kind: 'decoder';
  /** `architectures[0]` of a (fine-tuned) causal LM of the family, e.g. GPT2LMHeadModel. */
  causalLmArchitecture: string;
  /** The family's decoder for a config.json, with training.dropout overriding its dropouts. */
  decoder(cfg: HfConfigReader, o?: { dropout?: number; adapters?: AdapterHook }): Decoder;
}

/** An encoder-decoder (T5-like) with a language-model head on the decoder: translation, summarization. */
export interface Seq2SeqFamily extends FamilyInfo {
  kind: 'seq2seq';
  /** `architectures[0]` of a fine-tuned model of a `model_type`, e.g. T5ForConditionalGeneration. */
  conditionalGenerationArchitecture(modelType: string): string;
  /** The family's encoder-decoder for a config.json, with training.dropout overriding its dropouts. */
  seq2seq(cfg: HfConfigReader, o?: { dropout?: number; adapters?: AdapterHook }): Seq2Seq;
}

export type ModelFamily = EncoderFamily | DecoderFamily | Seq2SeqFamily;
export type FamilyKind = ModelFamily['kind'];

export function hiddenAct(cfg: HfConfigReader, key = 'hidden_act', dflt: Activation = 'gelu'): Activation {
  const act = cfg.str(key, dflt);
  if (!(ACTIVATIONS as readonly string[]).includes(act)) {
    throw new Error(`${cfg.source}: ${key} '${act}' is not supported (supported: ${ACTIVATIONS.join(', ')})`);
  }
  return act as Activation;
}
