import { BACK_TRANSLATION_DEFAULTS, EDA_DEFAULTS, MENTION_REPLACEMENT_DEFAULTS } from './config-defaults.js';
import type { JsonSchema } from './config-schema.js';

/** data.augment: extra training rows (engine: src/engine/augment/). */
const copies = (dflt: number): JsonSchema => ({
  type: 'integer',
  minimum: 1,
  maximum: 64,
  default: dflt,
  description: 'How many augmented copies each training example gets (the original is kept as well).',
});

const rate = (dflt: number, description: string): JsonSchema => ({
  type: 'number',
  minimum: 0,
  maximum: 1,
  default: dflt,
  description,
});

export const AUGMENT_SCHEMA: JsonSchema = {
  type: 'object',
  description:
    'Data augmentation: copies of the training examples (never of the validation split) made before training, reproducible from training.seed, so a resumed run trains on the same rows. text-classification and token-classification. The data report (data-report.json) shows counts and before/after samples; `finetune data augment <config> --preview 10` prints them.',
  additionalProperties: false,
  properties: {
    eda: {
      type: 'object',
      description:
        'Easy Data Augmentation (Wei & Zou 2019, eda.py): synonym replacement from WordNet 3.1, random insertion of a synonym, random swap and random deletion; stop words are never replaced. As eda.py, the copies are normalised (lowercase, letters a-z only). token-classification: synonym replacement of `O` tokens only (alpha_sr); the other operations would break the tags and are refused.',
      additionalProperties: false,
      properties: {
        n_aug: copies(EDA_DEFAULTS.n_aug),
        alpha_sr: rate(
          EDA_DEFAULTS.alpha_sr,
          'Synonym replacement: max(1, alpha_sr × words) non-stop words are replaced by a random WordNet synonym. 0 turns it off.',
        ),
        alpha_ri: rate(
          EDA_DEFAULTS.alpha_ri,
          'Random insertion: max(1, alpha_ri × words) times, a synonym of a random word is inserted at a random position. 0 turns it off. Not for token-classification.',
        ),
        alpha_rs: rate(
          EDA_DEFAULTS.alpha_rs,
          'Random swap: max(1, alpha_rs × words) times, two random words change places. 0 turns it off. Not for token-classification.',
        ),
        p_rd: rate(
          EDA_DEFAULTS.p_rd,
          'Random deletion: each word is deleted with probability p_rd (one word always stays). 0 turns it off. Not for token-classification.',
        ),
      },
    },
    mention_replacement: {
      type: 'object',
      description:
        'token-classification only (Dai & Adel 2020): each entity mention is, with probability p, replaced by another mention of the same type from the training set, its tags rebuilt as B-X, I-X, ... (IOB2).',
      additionalProperties: false,
      properties: {
        n_aug: copies(MENTION_REPLACEMENT_DEFAULTS.n_aug),
        p: rate(MENTION_REPLACEMENT_DEFAULTS.p, 'The probability that a mention is replaced.'),
      },
    },
    back_translation: {
      type: 'object',
      description:
        "text-classification only: each text translated into a pivot language by `via` and back by `back` (seq2seq models, e.g. two translation runs), sampled with `temperature`, for paraphrases that keep the label. Batched; the results are cached beside the runs folder (cache/back-translation/), keyed by both models' files, the texts and these settings, so later runs and resumes do not translate again.",
      additionalProperties: false,
      required: ['via', 'back'],
      properties: {
        via: {
          type: 'string',
          minLength: 1,
          description:
            'The model into the pivot language: a translation run directory (its final/, with its source_prefix) or a seq2seq Hugging Face folder, relative to this config file.',
        },
        back: {
          type: 'string',
          minLength: 1,
          description: "The model from the pivot language back into the data's language (run directory or folder).",
        },
        temperature: {
          type: 'number',
          minimum: 0,
          default: BACK_TRANSLATION_DEFAULTS.temperature,
          description:
            'Sampling temperature of both directions: logits are divided by it before each draw. 0 decodes greedily (then n_aug above 1 repeats the same text, and repeats are dropped).',
        },
        n_aug: copies(BACK_TRANSLATION_DEFAULTS.n_aug),
        batch_size: {
          type: 'integer',
          minimum: 1,
          default: BACK_TRANSLATION_DEFAULTS.batch_size,
          description: 'Texts translated together in one generation batch.',
        },
        max_new_tokens: {
          type: 'integer',
          minimum: 1,
          description:
            "Tokens generated at most per text and direction (default: each model's generation_config.json).",
        },
      },
    },
  },
};
