import { albert } from './albert/index.js';
import { bart, marian, mbart } from './bart/index.js';
import { bert } from './bert/index.js';
import { distilbert } from './distilbert/index.js';
import { electra } from './electra/index.js';
import type { DecoderFamily, EncoderFamily, FamilyKind, ModelFamily, Seq2SeqFamily } from './family.js';
import { gpt2 } from './gpt2/index.js';
import type { HfConfigReader } from './hf-config.js';
import { llama } from './llama/index.js';
import { mistral } from './mistral/index.js';
import { phi3 } from './phi3/index.js';
import { qwen2 } from './qwen2/index.js';
import { qwen3 } from './qwen3/index.js';
import { roberta } from './roberta/index.js';
import { t5 } from './t5/index.js';
import { xlnet } from './xlnet/index.js';

/**
 * Every model family the engine builds, one line each. Adding a family = its folder under
 * `models/` + one line here; base prefixes, LoRA targets, exported architectures and the lists of
 * supported `model_type`s are all read from these entries.
 */
export const FAMILIES: readonly ModelFamily[] = [
  bert,
  roberta,
  distilbert,
  albert,
  electra,
  xlnet,
  gpt2,
  llama,
  mistral,
  qwen2,
  qwen3,
  phi3,
  t5,
  bart,
  mbart,
  marian,
];

/** The family whose `modelTypes` include `modelType`, if any. */
export function findFamily(modelType: string): ModelFamily | undefined {
  return FAMILIES.find((f) => f.modelTypes.includes(modelType));
}

/** The `model_type`s of the families of a kind. */
export function modelTypesOf(kind: FamilyKind): string[] {
  return FAMILIES.filter((f) => f.kind === kind).flatMap((f) => f.modelTypes);
}

/** transformers' `base_model_prefix` of a `model_type` ('' for a type no family knows). */
export function basePrefixOf(modelType: string): string {
  return findFamily(modelType)?.basePrefix ?? '';
}

function familyOfKind<K extends FamilyKind>(
  cfg: HfConfigReader,
  kind: K,
  purpose: string,
): Extract<ModelFamily, { kind: K }> {
  const type = cfg.str('model_type', '');
  const family = findFamily(type);
  if (family?.kind !== kind) {
    throw new Error(
      `${cfg.source}: model_type '${type}' is not supported ${purpose} (supported: ${modelTypesOf(kind).join(', ')})`,
    );
  }
  return family as Extract<ModelFamily, { kind: K }>;
}

/** The encoder family of a model folder's config.json, or an error naming the supported types. */
export function encoderFamilyOf(cfg: HfConfigReader): EncoderFamily {
  return familyOfKind(cfg, 'encoder', 'for encoder tasks');
}

/** The decoder family of a model folder's config.json, or an error naming the supported types. */
export function decoderFamilyOf(cfg: HfConfigReader): DecoderFamily {
  return familyOfKind(cfg, 'decoder', 'as a causal LM');
}

/** The encoder-decoder family of a model folder's config.json, or an error naming the supported types. */
export function seq2seqFamilyOf(cfg: HfConfigReader): Seq2SeqFamily {
  return familyOfKind(cfg, 'seq2seq', 'as an encoder-decoder (translation, summarization)');
}
