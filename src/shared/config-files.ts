import { CONFIG_DEFAULTS } from './config-defaults.js';
import { checkDistillationFiles, checkModelOrRun } from './config-distill-files.js';
import { TASK_COLUMNS } from './config-rules.js';
import { diag, replaceEdit } from './config-schema-check.js';
import { checkT5Prefix, checkTranslationRows } from './config-seq2seq-files.js';
import { SEQ2SEQ_TASKS } from './config-seq2seq-rules.js';
import { chatTemplateProblem, detectSftFormat, missingSftColumns, type SftFormat } from './config-sft-files.js';
import { closest, type Diagnostic, nodeAt, type ParsedConfig, type ScalarNode, type Span } from './config-tree.js';
import { jsonlHead } from './jsonl-head.js';
import { formatBytes, MAX_MODEL_JSON_BYTES, utf8Length } from './limits.js';

/**
 * Checks of what the config names on disk: the model folder, the data files and their columns,
 * and the model's limits. The file system is injected, so the extension passes
 * `vscode.workspace.fs` (remote workspaces included) and the engine Node's fs; this module stays
 * browser-safe. Each diagnostic points at the value of the key that names the file or column.
 */
export interface ConfigFs {
  exists(path: string): Promise<boolean>;
  /** The whole file as UTF-8 text, or undefined if it can't be read. */
  readText(path: string): Promise<string | undefined>;
  /** Names in a folder, or undefined if it is not a folder. */
  readDir?(path: string): Promise<string[] | undefined>;
  /** The first `bytes` bytes as text: data files can be gigabytes. Without it, readText is used. */
  readHead?(path: string, bytes: number): Promise<string | undefined>;
  /**
   * The folder of a Hub model id in the local Hugging Face cache (the snapshot the engine would
   * load offline), or undefined when it is not cached. Without it, Hub ids are not looked into.
   */
  resolveHubModel?(id: string): Promise<string | undefined>;
}

const HEAD_BYTES = 64 * 1024;
const HEAD_ROWS = 20;
/** `org/name` or a legacy `name` on the Hub; anything starting with `.`, `/`, `~` or a drive is a path. */
const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;
const DEFAULT_MAX_LENGTH = CONFIG_DEFAULTS.data.max_length;

export function isAbsolutePath(p: string): boolean {
  return /^([A-Za-z]:[\\/]|[\\/])/.test(p);
}

/** `dir` joined with a relative path, `.` and `..` folded; absolute paths are returned as they are. */
export function resolvePath(dir: string, p: string): string {
  if (isAbsolutePath(p)) return p;
  const joined = `${dir.replace(/[\\/]+$/, '')}/${p}`;
  const lead = /^([A-Za-z]:)?[\\/]?/.exec(joined)?.[0] ?? '';
  const parts: string[] = [];
  for (const part of joined.slice(lead.length).split(/[\\/]+/)) {
    if (part === '' || part === '.') continue;
    if (part !== '..') parts.push(part);
    else if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    // Above the root of an absolute path is the root itself, as in path.resolve.
    else if (lead === '') parts.push(part);
  }
  return `${lead.replace('\\', '/')}${parts.join('/')}`;
}

export async function checkConfigFiles(parsed: ParsedConfig, fs: ConfigFs, configDir: string): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const scalar = (path: string[]): ScalarNode | undefined => {
    const n = nodeAt(parsed.root, path);
    return n?.kind === 'scalar' ? n : undefined;
  };
  const str = (path: string[]) => {
    const v = scalar(path)?.value;
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const task = str(['task']);
  const model = await checkModel(parsed, fs, configDir, out);
  const explicitFormat = str(['data', 'format']) as SftFormat | undefined;
  let trainFormat: SftFormat | undefined;
  for (const key of ['train', 'validation']) {
    const node = scalar(['data', key]);
    const rel = str(['data', key]);
    if (!node || rel === undefined) continue;
    const path = resolvePath(configDir, rel);
    if (!(await fs.exists(path))) {
      out.push(diag(parsed, 'error', `Data file '${rel}' not found.`, 'data-not-found', ['data', key], node.span));
      continue;
    }
    const raw = fs.readHead ? await fs.readHead(path, HEAD_BYTES) : await fs.readText(path);
    if (raw === undefined) continue;
    const head = raw.slice(0, HEAD_BYTES);
    // readHead stops at a byte count, maybe inside a line (or a character, which decodes to U+FFFD).
    const truncated = head.length < raw.length || utf8Length(head) >= HEAD_BYTES - 3;
    const sample = sampleColumns(head, rel, truncated);
    if (!sample) continue;
    const at = (msg: string, code: string, severity: Diagnostic['severity'] = 'error') =>
      out.push(diag(parsed, severity, msg, code, ['data', key], node.span));
    if (sample.badLine !== undefined) at(`Line ${sample.badLine} of '${rel}' is not a JSON object.`, 'data-bad-row');
    if (sample.rows === 0) {
      at(`'${rel}' has no rows.`, 'data-empty', 'warning');
      continue;
    }
    // causal-lm rows are text, prompt-completion or messages, by data.format or their first row.
    const format = task === 'causal-lm' ? (explicitFormat ?? detectSftFormat(sample.first)) : undefined;
    if (key === 'train') trainFormat = format;
    const sftMissing = format ? missingSftColumns(format, sample.columns) : undefined;
    if (sftMissing) {
      const have = sample.columns.length > 0 ? `; its columns are: ${sample.columns.join(', ')}` : '';
      at(`${sftMissing} in '${rel}'${have}.`, 'column-not-found');
    }
    const columns = task && (format ?? 'text') === 'text' ? (TASK_COLUMNS[task] ?? {}) : {};
    for (const [columnKey, fallback] of Object.entries(columns)) {
      const explicit = scalar(['data', columnKey]);
      const name = str(['data', columnKey]) ?? fallback;
      if (name === undefined || sample.columns.includes(name)) continue;
      const have = sample.columns.length > 0 ? `; its columns are: ${sample.columns.join(', ')}` : '';
      const what = explicit ? `Column '${name}'` : `Column '${name}' (the default ${columnKey})`;
      const msg = `${what} not found in '${rel}'${have}.`;
      const guess = explicit ? closest(name, sample.columns) : undefined;
      const fixes = guess
        ? [{ title: `Change to '${guess}'`, edits: [replaceEdit(parsed, explicit?.span ?? [0, 0], guess)] }]
        : [];
      const span: Span = explicit?.span ?? node.span;
      out.push(diag(parsed, 'error', msg, 'column-not-found', ['data', explicit ? columnKey : key], span, fixes));
    }
    out.push(...checkTranslationRows(parsed, sample.objects, { rel, key, span: node.span }));
  }
  out.push(...(await checkDistillationFiles(parsed, fs, configDir, resolvePath)));
  for (const key of ['via', 'back']) {
    const path = ['data', 'augment', 'back_translation', key];
    const what = { name: `Translation model (back_translation.${key})`, code: 'model' };
    out.push(...(await checkModelOrRun(parsed, fs, configDir, resolvePath, path, what)));
  }
  if (model && trainFormat === 'messages') {
    const problem = await chatTemplateProblem(fs, model.dir, model.name, model.shown);
    const formatNode = nodeAt(parsed.root, ['data', 'format']);
    const path = formatNode ? ['data', 'format'] : ['model'];
    const span = formatNode?.span ?? model.span;
    if (problem) out.push(diag(parsed, 'warning', problem, 'chat-template-missing', path, span));
  }
  return out;
}

interface Sample {
  columns: string[];
  /** The fields of the first row (what the engine detects a causal-lm format from). */
  first: string[];
  /** The first rows of a JSON Lines file (none for CSV/TSV). */
  objects: Record<string, unknown>[];
  rows: number;
  badLine?: number;
}

/** Column names from the first rows of a JSONL file or the header of a CSV/TSV file. */
function sampleColumns(head: string, name: string, truncated: boolean): Sample | undefined {
  const text = head.charCodeAt(0) === 0xfeff ? head.slice(1) : head;
  const lines = text.split(/\r?\n/);
  // A head cut mid-file ends in a partial line.
  if (truncated) lines.pop();
  if (/\.jsonl$/i.test(name)) {
    const head = jsonlHead(lines, HEAD_ROWS);
    const first = head.objects[0];
    return {
      columns: head.columns,
      first: first ? Object.keys(first) : [],
      objects: head.objects,
      rows: head.rows,
      ...(head.badLine === undefined ? {} : { badLine: head.badLine }),
    };
  }
  const separator = /\.tsv$/i.test(name) ? '\t' : /\.csv$/i.test(name) ? ',' : undefined;
  if (separator === undefined) return undefined;
  const header = lines.find((l) => l.trim() !== '');
  if (header === undefined) return { columns: [], first: [], objects: [], rows: 0 };
  // Header detection only: quoted names lose their quotes; the engine's CSV parser reads the rows.
  const columns = header.split(separator).map((c) =>
    c
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .replaceAll('""', '"'),
  );
  return { columns, first: columns, objects: [], rows: lines.filter((l) => l.trim() !== '').length - 1 };
}

/**
 * `model_type`s known as encoders or decoders, for the task/architecture warning: wider than what the
 * engine trains (its registry, src/engine/models/registry.ts, which src/shared can't import), so a
 * config for a family not yet supported still gets the right hint; a test checks that every engine
 * family is listed under its kind.
 */
export const ENCODER_TYPES: ReadonlySet<string> = new Set([
  'bert',
  'roberta',
  'xlm-roberta',
  'camembert',
  'distilbert',
  'albert',
  'electra',
  'xlnet',
  'deberta',
  'deberta-v2',
  'mpnet',
]);
export const DECODER_TYPES: ReadonlySet<string> = new Set([
  'gpt2',
  'gpt_neo',
  'gptj',
  'gpt_neox',
  'llama',
  'mistral',
  'qwen2',
  'qwen3',
  'phi',
  'phi3',
  'opt',
  'bloom',
  'falcon',
]);
export const SEQ2SEQ_TYPES: ReadonlySet<string> = new Set([
  't5',
  'mt5',
  'umt5',
  'longt5',
  'bart',
  'mbart',
  'marian',
  'pegasus',
]);
/**
 * RoBERTa-style models offset positions by padding_idx + 1, so two embeddings are never used (the
 * engine's families with padding-offset positions; a test holds the two together).
 */
export const OFFSET_POSITIONS: ReadonlySet<string> = new Set(['roberta', 'xlm-roberta', 'camembert']);

/** The model folder a config names, once found: on disk, or a Hub id's snapshot in the cache. */
export interface ModelFolder {
  dir: string;
  /** As the config names it, for messages. */
  name: string;
  /** The folder as messages show it: the name, or for a cached Hub id its snapshot folder. */
  shown: string;
  span: Span;
}

async function checkModel(
  parsed: ParsedConfig,
  fs: ConfigFs,
  configDir: string,
  out: Diagnostic[],
): Promise<ModelFolder | undefined> {
  const node = nodeAt(parsed.root, ['model']);
  if (node?.kind !== 'scalar' || typeof node.value !== 'string' || node.value === '') return;
  const rel = node.value;
  let dir = resolvePath(configDir, rel);
  const at = (severity: Diagnostic['severity'], msg: string, code: string) =>
    out.push(diag(parsed, severity, msg, code, ['model'], node.span));
  let listing = fs.readDir ? await fs.readDir(dir) : undefined;
  if (listing === undefined && !(await fs.exists(dir))) {
    // A Hub id resolves through the Hugging Face cache at run time (or is downloaded then): when
    // it is cached, its snapshot is checked as a folder; otherwise there is nothing to check yet.
    if (HUB_ID.test(rel) || /^[\w.-]+\/[\w.-]+@[^\s@]+$/.test(rel)) {
      const cached = await fs.resolveHubModel?.(rel);
      if (cached === undefined) return;
      dir = cached;
      listing = fs.readDir ? await fs.readDir(dir) : undefined;
    } else {
      at('error', `Model folder '${rel}' not found.`, 'model-not-found');
      return;
    }
  }
  const folder: ModelFolder = {
    dir,
    name: rel,
    shown: dir === resolvePath(configDir, rel) ? rel : dir,
    span: node.span,
  };
  const has = async (file: string) => (listing ? listing.includes(file) : fs.exists(resolvePath(dir, file)));
  // Read no more than the limit (and a few bytes to tell a file over it), whatever its size.
  const configPath = resolvePath(dir, 'config.json');
  const configText = fs.readHead
    ? await fs.readHead(configPath, MAX_MODEL_JSON_BYTES + 4)
    : await fs.readText(configPath);
  if (configText === undefined) {
    at('error', `'${rel}' has no config.json: it is not a Hugging Face model folder.`, 'model-config-missing');
    return folder;
  }
  if (utf8Length(configText, MAX_MODEL_JSON_BYTES) > MAX_MODEL_JSON_BYTES) {
    const limit = formatBytes(MAX_MODEL_JSON_BYTES);
    at(
      'error',
      `${rel}/config.json is larger than ${limit}, the most a model's config.json may have.`,
      'model-config-too-large',
    );
    return folder;
  }
  const init = nodeAt(parsed.root, ['training', 'init']);
  const scratch = init?.kind === 'scalar' && init.value === 'scratch';
  // training.init: scratch draws every weight from config.json: the folder needs none.
  if (!scratch && !(await has('model.safetensors')) && !(await has('model.safetensors.index.json'))) {
    if ((await has('pytorch_model.bin')) || (await has('pytorch_model.bin.index.json')))
      at(
        'error',
        `'${rel}' has only pytorch_model.bin, a pickle checkpoint, which is not loaded for safety: convert it to model.safetensors (in Python: AutoModel.from_pretrained(path).save_pretrained(path, safe_serialization=True)).`,
        'model-pickle',
      );
    else
      at(
        'error',
        `'${rel}' has no model.safetensors (or sharded model.safetensors.index.json); set training.init: scratch to initialise the model from its config.json.`,
        'model-weights-missing',
      );
  }
  if (!(await has('tokenizer.json')))
    at('warning', `'${rel}' has no tokenizer.json: the tokenizer can't be loaded.`, 'tokenizer-missing');

  let config: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(configText);
    if (v === null || typeof v !== 'object') throw new Error('not an object');
    config = v as Record<string, unknown>;
  } catch {
    at('error', `${rel}/config.json is not valid JSON.`, 'model-config-invalid');
    return folder;
  }
  modelLimits(parsed, config, rel, out);
  return folder;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function modelLimits(parsed: ParsedConfig, config: Record<string, unknown>, rel: string, out: Diagnostic[]): void {
  const modelType = typeof config.model_type === 'string' ? config.model_type : '';
  const modelSpan = nodeAt(parsed.root, ['model'])?.span ?? [0, 0];

  const positions = num(config.max_position_embeddings) ?? num(config.n_positions) ?? num(config.n_ctx);
  if (positions !== undefined) {
    const limit = OFFSET_POSITIONS.has(modelType) ? positions - 2 : positions;
    const node = nodeAt(parsed.root, ['data', 'max_length']);
    const maxLength = node?.kind === 'scalar' && typeof node.value === 'number' ? node.value : undefined;
    if (node && maxLength !== undefined && maxLength > limit)
      out.push(
        diag(
          parsed,
          'error',
          `max_length ${maxLength} exceeds the ${limit} positions of '${rel}'.`,
          'max-length',
          ['data', 'max_length'],
          node.span,
        ),
      );
    if (!node && DEFAULT_MAX_LENGTH > limit)
      out.push(
        diag(
          parsed,
          'error',
          `'${rel}' has ${limit} positions, fewer than the default max_length ${DEFAULT_MAX_LENGTH}: set data.max_length.`,
          'max-length',
          ['model'],
          modelSpan,
        ),
      );
  }

  const layers = num(config.num_hidden_layers) ?? num(config.n_layer) ?? num(config.num_layers);
  const freeze = nodeAt(parsed.root, ['training', 'freeze_layers']);
  if (layers !== undefined && freeze?.kind === 'scalar' && typeof freeze.value === 'number' && freeze.value > layers) {
    const msg = `freeze_layers ${freeze.value} exceeds the ${layers} layers of '${rel}'; use 'all' to freeze them all.`;
    out.push(diag(parsed, 'error', msg, 'freeze-layers-range', ['training', 'freeze_layers'], freeze.span));
  }

  const task = nodeAt(parsed.root, ['task']);
  const taskName = task?.kind === 'scalar' ? task.value : undefined;
  const archs = Array.isArray(config.architectures) ? config.architectures.filter((a) => typeof a === 'string') : [];
  const arch = archs[0] ?? modelType;
  const decoder =
    archs.some((a) => /ForCausalLM$|LMHeadModel$/.test(a)) || (archs.length === 0 && DECODER_TYPES.has(modelType));
  // An encoder family's type counts whatever head its checkpoint was saved with: xlnet-base-cased
  // is an XLNetLMHeadModel (the permutation LM, task causal-lm here) and fine-tunes for the
  // encoder tasks too, so neither warning fires for it.
  const encoder =
    archs.some((a) =>
      /For(MaskedLM|PreTraining|SequenceClassification|TokenClassification|QuestionAnswering|MultipleChoice)$/.test(a),
    ) || ENCODER_TYPES.has(modelType);
  if (typeof taskName !== 'string') return;
  const seq2seq =
    archs.some((a) => a.endsWith('ForConditionalGeneration')) || (archs.length === 0 && SEQ2SEQ_TYPES.has(modelType));
  if (SEQ2SEQ_TASKS.includes(taskName) !== seq2seq) {
    const msg = seq2seq
      ? `'${rel}' is an encoder-decoder (${arch}); ${taskName} needs ${taskName === 'causal-lm' ? 'a decoder such as GPT-2' : 'an encoder such as BERT'}.`
      : `'${rel}' is not an encoder-decoder (${arch}); ${taskName} needs one such as T5 or flan-T5.`;
    out.push(diag(parsed, 'warning', msg, 'task-architecture', ['model'], modelSpan));
    return;
  }
  if (seq2seq) {
    out.push(...checkT5Prefix(parsed, modelType, taskName));
    return;
  }
  if (taskName === 'causal-lm' && encoder && !decoder)
    out.push(
      diag(
        parsed,
        'warning',
        `'${rel}' is an encoder (${arch}), which can't generate text; causal-lm needs a decoder such as GPT-2.`,
        'task-architecture',
        ['model'],
        modelSpan,
      ),
    );
  if (taskName !== 'causal-lm' && decoder && !encoder)
    out.push(
      diag(
        parsed,
        'warning',
        `'${rel}' is a causal language model (${arch}); ${taskName} usually fine-tunes an encoder such as BERT or RoBERTa.`,
        'task-architecture',
        ['model'],
        modelSpan,
      ),
    );
}
