import { albert } from './albert.js';
import { bert } from './bert.js';
import { distilbert } from './distilbert.js';
import { electra } from './electra.js';
import type { ModelFamily } from './family.js';
import type { HfConfigReader } from './hf-config.js';
import { roberta } from './roberta.js';

export const FAMILIES: readonly ModelFamily[] = [bert, roberta, distilbert, albert, electra];

/** The family of a model folder, from config.json's `model_type`. */
export function familyOf(cfg: HfConfigReader): ModelFamily {
  const type = cfg.str('model_type');
  const family = FAMILIES.find((f) => f.modelTypes.includes(type));
  if (!family) {
    const known = FAMILIES.flatMap((f) => f.modelTypes).join(', ');
    throw new Error(`${cfg.source}: model_type '${type}' is not supported (supported: ${known})`);
  }
  return family;
}
