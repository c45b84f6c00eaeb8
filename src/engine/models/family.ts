import type { EncoderArch } from './encoder.js';
import type { Head } from './heads.js';
import type { HfConfigReader } from './hf-config.js';
import type { Activation } from './layers.js';
import { ACTIVATIONS } from './layers.js';

/** What the engine knows about one Hugging Face model family (one file per family). */
export interface ModelFamily {
  /** `model_type` values in config.json. */
  modelTypes: readonly string[];
  arch(cfg: HfConfigReader, dropoutOverride?: number): EncoderArch;
  sequenceHead: Head;
  tokenHead: Head;
  /** Dropout before the head, from the config (overridden by training.dropout). */
  headDropout(cfg: HfConfigReader, task: 'sequence' | 'token', dropoutOverride?: number): number;
  /** `architectures` written into an exported config.json. */
  architectures: { sequence: string; token: string };
}

export function hiddenAct(cfg: HfConfigReader, key = 'hidden_act', dflt: Activation = 'gelu'): Activation {
  const act = cfg.str(key, dflt);
  if (!(ACTIVATIONS as readonly string[]).includes(act)) {
    throw new Error(`${cfg.source}: ${key} '${act}' is not supported (supported: ${ACTIVATIONS.join(', ')})`);
  }
  return act as Activation;
}
