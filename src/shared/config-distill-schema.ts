import { DISTILLATION_DEFAULTS } from './config-defaults.js';
import type { JsonSchema } from './config-schema.js';

/** training.distillation: the teacher and the loss (engine: src/engine/distill/). */
export const DISTILLATION_SCHEMA: JsonSchema = {
  type: 'object',
  description:
    "Knowledge distillation (Hinton et al. 2015): the student (`model`) learns from a teacher's logits as well as the gold labels, loss = alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * cross-entropy. text-classification (single-label), token-classification, and causal-lm (the KL per token over the vocabulary, the teacher's logits computed per batch; the teacher needs the student's tokenizer).",
  additionalProperties: false,
  required: ['teacher'],
  properties: {
    teacher: {
      type: 'string',
      minLength: 1,
      description:
        "The teacher: a completed run directory (its `final/` model) or a fine-tuned Hugging Face folder, relative to this config file. It must have the student's task and label set (its config.json id2label). Its logits are computed once per example and cached in the run directory.",
    },
    temperature: {
      type: 'number',
      exclusiveMinimum: 0,
      default: DISTILLATION_DEFAULTS.temperature,
      description:
        "T, the softmax temperature of both the teacher's and the student's distributions in the KL term: above 1 softens them, so the student learns from the teacher's relative scores of the wrong classes.",
    },
    alpha: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      default: DISTILLATION_DEFAULTS.alpha,
      description:
        'The weight of the distillation (KL) term; 1 - alpha weighs the cross-entropy on gold labels. 1 learns from the teacher alone.',
    },
    hidden_loss: {
      type: 'string',
      enum: ['none', 'mse'],
      enumDescriptions: [
        'The logits only.',
        "Also align the student's last hidden state with the teacher's, as DistilBERT did: the mean squared error over the positions the head reads (a sequence's first token; each word's first sub-token), added to the loss. Student and teacher need the same hidden size (a student made by `finetune distill init`); BERT-shaped encoders.",
      ],
      default: DISTILLATION_DEFAULTS.hidden_loss,
      description: "Whether the student also learns the teacher's hidden states (DistilBERT's alignment).",
    },
    student_layers_from_teacher: {
      type: 'string',
      enum: ['every_other'],
      enumDescriptions: [
        'Student layer i starts as teacher layer 2i (0, 2, 4, ...), as DistilBERT was initialised from BERT; embeddings and head come from the teacher too.',
      ],
      description:
        "Initialise the student (`model`, which gives the layer count) from the teacher's weights instead of its own. Both must be the same family with the same layer shape (hidden size, heads); the student's weights are written to the run directory (`student-init/`). `finetune distill init` writes such a folder ahead of time.",
    },
  },
};
