/**
 * Loading and saving Hugging Face model folders, with transformers' name conventions.
 *
 * Parameter names (ParamSpec) are those of the task model as transformers writes them: base
 * weights under the base-model prefix (`bert.embeddings...`), head weights without it
 * (`classifier.weight`). Files may carry the prefix (saved from a task model) or not (saved
 * from a base `BertModel`), so each parameter is looked up under its own name, then with the
 * prefix removed or added, each also with the legacy LayerNorm names `gamma`/`beta`. That covers
 * a base checkpoint loaded into a task model and a task checkpoint loaded into a base model.
 */
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { TensorData } from '../graph/types.js';
import type { HfConfig } from '../models/hf-config.js';
import { initWeights } from '../models/init.js';
import type { ParamSpec, Weights } from '../models/model.js';
import { basePrefixOf } from '../models/registry.js';
import { copyFileAtomic } from './atomic.js';
import { Checkpoint, hasNoWeightFiles, saveCheckpoint } from './checkpoint.js';
import { type SavedFloatDtype, toStoredDtype } from './half.js';
import { readHfConfig, writeHfConfig } from './hf-config.js';
import { isFloatDtype } from './safetensors.js';

/** Modules transformers' task models put on top of the base model. */
export const HEAD_MODULES: readonly string[] = [
  'classifier',
  'pre_classifier',
  'qa_outputs',
  'score',
  'lm_head',
  'cls',
  'vocab_transform',
  'vocab_layer_norm',
  'vocab_projector',
  'predictions',
  'sop_classifier',
  'discriminator_predictions',
  'generator_predictions',
  'generator_lm_head',
];

/** Files copied with the weights so the saved folder tokenizes as the source did. */
export const TOKENIZER_FILES: readonly string[] = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.txt',
  'vocab.json',
  'merges.txt',
  'spiece.model',
  'sentencepiece.bpe.model',
  'source.spm',
  'target.spm',
];

export interface LoadPretrainedOptions {
  /** Defaults to the family's base prefix (models/registry.ts); '' turns prefix handling off. */
  basePrefix?: string;
  /** Seed of the initialisation of missing and re-initialised parameters. */
  seed?: number;
  /** Parameters whose shape may differ from the file (re-initialised): default HEAD_MODULES. */
  headModules?: readonly string[];
  /** Receives warnings (re-initialised heads). */
  warn?: (message: string) => void;
  /**
   * training.init: `pretrained` (default) reads the folder's weights; `scratch` initialises every
   * parameter from its ParamSpec.init (transformers' `_init_weights`, as `from_config` builds a
   * model), whether or not the folder has weights.
   */
  init?: 'pretrained' | 'scratch';
  /**
   * Other names a parameter may be stored under because transformers ties them to it (BART's
   * `model.shared` = the stacks' `embed_tokens`): a checkpoint that kept only a tied copy
   * (facebook/bart-large-cnn keeps `model.decoder.embed_tokens.weight`) still loads it.
   */
  tiedNames?: (name: string) => readonly string[];
}

export interface ShapeMismatch {
  name: string;
  file: string;
  fileShape: number[];
  expectedShape: number[];
}

export interface LoadedPretrained {
  /** One float32 tensor per ParamSpec, in ParamSpec order. */
  weights: Weights;
  config: HfConfig;
  /** Parameters the files do not have; initialised from their ParamSpec.init. */
  missing: string[];
  /** Float tensors in the files that no parameter uses. */
  unexpected: string[];
  /** Integer buffers in the files (e.g. `embeddings.position_ids`): never parameters. */
  ignoredBuffers: string[];
  /** Parameters found under another name (prefix added/removed, gamma/beta). */
  renamed: { from: string; to: string }[];
  /** Head parameters whose stored shape differs (e.g. another label count): re-initialised. */
  reinitialized: ShapeMismatch[];
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** The names a parameter may have in a file, most likely first. */
export function candidateNames(name: string, prefix: string): string[] {
  const forms = [name];
  if (prefix) {
    forms.push(name.startsWith(`${prefix}.`) ? name.slice(prefix.length + 1) : `${prefix}.${name}`);
  }
  const legacy = (n: string) =>
    n.endsWith('.weight') ? `${n.slice(0, -7)}.gamma` : n.endsWith('.bias') ? `${n.slice(0, -5)}.beta` : undefined;
  return forms.flatMap((f) => {
    const old = legacy(f);
    return old ? [f, old] : [f];
  });
}

function isHeadParam(name: string, prefix: string, heads: readonly string[]): boolean {
  const local = prefix && name.startsWith(`${prefix}.`) ? name.slice(prefix.length + 1) : name;
  return heads.some((h) => local === h || local.startsWith(`${h}.`));
}

/**
 * Loads `folder` (config.json + safetensors weights) for a model whose parameters are
 * `expected`. Only the tensors that parameters use are read. Throws on a shape mismatch of a
 * base weight, naming the tensor, the file and both shapes.
 */
export function loadPretrained(
  folder: string,
  expected: readonly ParamSpec[],
  options: LoadPretrainedOptions = {},
): LoadedPretrained {
  const config = readHfConfig(folder);
  const prefix = options.basePrefix ?? basePrefixOf(config.model_type ?? '');
  const heads = options.headModules ?? HEAD_MODULES;
  if (options.init === 'scratch') {
    const weights = initWeights(expected, options.seed ?? 0);
    const names = expected.map((s) => s.name);
    return { weights, config, missing: names, unexpected: [], ignoredBuffers: [], renamed: [], reinitialized: [] };
  }
  if (hasNoWeightFiles(folder)) {
    throw new Error(
      `${folder} has config.json but no weights (model.safetensors): set training.init: scratch to initialise ` +
        'the model from its config.json, or point model at a folder with weights',
    );
  }
  const ckpt = Checkpoint.open(folder);
  const loaded = new Map<string, TensorData>();
  const used = new Set<string>();
  const missing: ParamSpec[] = [];
  const renamed: { from: string; to: string }[] = [];
  const reinitialized: ShapeMismatch[] = [];
  try {
    for (const spec of expected) {
      const names = [spec.name, ...(options.tiedNames?.(spec.name) ?? [])].flatMap((n) => candidateNames(n, prefix));
      const stored = names.find((n) => ckpt.tensors.has(n) && !used.has(n));
      if (stored === undefined) {
        missing.push(spec);
        continue;
      }
      used.add(stored);
      const { file, entry } = ckpt.tensors.get(stored) as NonNullable<ReturnType<typeof ckpt.tensors.get>>;
      if (!isFloatDtype(entry.dtype)) {
        throw new Error(
          `${file.file}: tensor "${stored}" is ${entry.dtype}, but parameter "${spec.name}" needs floating-point weights`,
        );
      }
      const same = entry.shape.length === spec.shape.length && entry.shape.every((d, i) => d === spec.shape[i]);
      if (!same) {
        const mismatch = {
          name: spec.name,
          file: file.file,
          fileShape: [...entry.shape],
          expectedShape: [...spec.shape],
        };
        if (!isHeadParam(spec.name, prefix, heads)) {
          throw new Error(
            `${file.file}: tensor "${stored}" has shape ${shapeText(entry.shape)} but the model expects ` +
              `${shapeText(spec.shape)} for "${spec.name}". The model was built from a config that does not ` +
              `match these weights: build it from ${join(folder, 'config.json')} (hidden_size, vocab_size, ` +
              'max_position_embeddings, ...) or use the checkpoint that goes with the config',
          );
        }
        reinitialized.push(mismatch);
        options.warn?.(
          `${spec.name}: the checkpoint's ${shapeText(entry.shape)} does not fit ${shapeText(spec.shape)} ` +
            '(another label count?); the head is re-initialised and trained from scratch',
        );
        continue;
      }
      if (stored !== spec.name) renamed.push({ from: stored, to: spec.name });
      loaded.set(spec.name, file.read(stored));
    }
  } finally {
    ckpt.close();
  }
  const unused = [...ckpt.tensors.keys()].filter((n) => !used.has(n));
  const isFloat = (n: string) => isFloatDtype(ckpt.tensors.get(n)?.entry.dtype ?? '');
  const reinitSpecs = expected.filter((s) => reinitialized.some((r) => r.name === s.name));
  initWeights([...missing, ...reinitSpecs], options.seed ?? 0, loaded);
  return {
    weights: new Map(expected.map((s) => [s.name, loaded.get(s.name) as TensorData])),
    config,
    missing: missing.map((s) => s.name),
    unexpected: unused.filter(isFloat),
    ignoredBuffers: unused.filter((n) => !isFloat(n)),
    renamed,
    reinitialized,
  };
}

export interface SavePretrainedOptions {
  /** Folder to copy tokenizer files from (those of TOKENIZER_FILES that exist). */
  tokenizerFrom?: string;
  /** Written into config.json (e.g. ["BertForSequenceClassification"]). */
  architectures?: string[];
  /** Label names by class index; written as id2label and label2id. */
  labels?: readonly string[];
  maxShardSize?: number | string;
  /** The dtype the weights are stored in (default float32, the engine's): rounded as torch's `.to(dtype)`. */
  dtype?: SavedFloatDtype;
}

/** The transformers version written when the source config names none. */
const DEFAULT_TRANSFORMERS_VERSION = '4.46.3';

/**
 * Writes a folder `from_pretrained` loads: weights (sharded above maxShardSize) in `dtype`
 * (default float32), config.json with architectures, labels and torch_dtype (and transformers 5's
 * `dtype`, where the source config has it) naming that dtype, and the tokenizer files of the source.
 * Weights first, config last: a folder with a config is complete.
 */
export function savePretrained(
  folder: string,
  weights: ReadonlyMap<string, TensorData>,
  config: HfConfig,
  options: SavePretrainedOptions = {},
): { files: string[] } {
  const source = options.tokenizerFrom;
  if (source && !existsSync(source)) {
    throw new Error(
      `savePretrained: tokenizerFrom folder ${source} does not exist; give the model folder the run started from`,
    );
  }
  mkdirSync(folder, { recursive: true });
  for (const [name, t] of weights) {
    if (t.dtype !== 'float32')
      throw new Error(`savePretrained: weight "${name}" is ${t.dtype}; weights are saved as float32`);
  }
  const dtype = options.dtype ?? 'float32';
  const stored = dtype === 'float32' ? weights : new Map([...weights].map(([n, t]) => [n, toStoredDtype(t, dtype)]));
  const saved = saveCheckpoint(
    folder,
    stored,
    options.maxShardSize === undefined ? {} : { maxShardSize: options.maxShardSize },
  );
  const files = [...saved.files, ...(saved.index ? [saved.index] : [])];
  if (source && realpathSync(source) !== realpathSync(folder)) {
    for (const name of TOKENIZER_FILES) {
      if (!existsSync(join(source, name))) continue;
      copyFileAtomic(join(source, name), join(folder, name));
      files.push(name);
    }
  }
  const out: HfConfig = { ...config, torch_dtype: dtype };
  if ('dtype' in config) out.dtype = dtype; // transformers >= 5 writes `dtype` (torch_dtype kept for older readers)
  out.transformers_version = config.transformers_version ?? DEFAULT_TRANSFORMERS_VERSION;
  if (options.architectures) out.architectures = [...options.architectures];
  if (options.labels) {
    out.id2label = Object.fromEntries(options.labels.map((label, i) => [String(i), label]));
    out.label2id = Object.fromEntries(options.labels.map((label, i) => [label, i]));
  }
  writeHfConfig(folder, out);
  files.push('config.json');
  return { files };
}
