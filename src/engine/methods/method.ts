import { join } from 'node:path';
import type { MethodName, ResolvedConfig } from '../../shared/config.js';
import type { TrainableModel, Weights } from '../models/model.js';
import { basePrefixOf } from '../models/registry.js';
import type { OptimizerConfig } from '../optim/optimizer.js';
import { TASKS } from '../tasks/registry.js';
import type { TaskRecipe } from '../tasks/task.js';
import { planFreeze } from './freeze.js';
import { modelLayout } from './layout.js';
import { Lora, loraSettings } from './lora.js';

/**
 * `training.method`: which weights a run trains.
 * - full: every weight;
 * - freeze: all but the embeddings and the bottom `freeze_layers` layers (or only the head);
 * - lora: low-rank adapters on the targeted linear layers, plus the head.
 * Frozen weights are initializers of the step graphs: never fed, no optimizer state. Base weights the
 * checkpoint lacks (freshly initialised) are trained under every method, as a head is: frozen at
 * random they would only add noise.
 */
export interface MethodPlan {
  name: MethodName;
  /** The model the step graphs are built from (LoRA: with its adapter parameters). */
  model: TrainableModel;
  /** Its weights (LoRA: the pretrained ones plus fresh adapters). */
  weights: Weights;
  trainable: Set<string>;
  counts: ParamCounts;
  /** Lines for the run log: what is trained, how many parameters, bytes carried per step. */
  logLines: string[];
  lora?: Lora;
  /** The weights of the plain model (LoRA: adapters merged into the base weights). */
  exportWeights(weights: Weights): Weights;
  /** Method files in the run's final/ folder (LoRA: the PEFT adapter in final/adapter/). */
  writeFinal(finalDir: string, weights: Weights): void;
}

export interface ParamCounts {
  total: number;
  trained: number;
  /** Bytes of the trained parameters (float32). */
  trainedBytes: number;
  /** Bytes of their optimizer state (AdamW: exp_avg, exp_avg_sq; plus gradient sums with accumulation). */
  stateBytes: number;
  /**
   * Parameter bytes carried from step to step, fed to the train step or updated beside it
   * (see HostAdamW): trainedBytes + stateBytes.
   */
  carriedBytes: number;
  /** Bytes of the frozen weights, initializers inside the session. */
  frozenBytes: number;
  /** LoRA: parameters of the adapters alone. */
  adapters?: number;
}

/** The adapters a LoRA run needs before its recipe builds the model (their hook goes into RecipeOptions). */
export function loraFor(config: ResolvedConfig, modelType: string): Lora | undefined {
  const t = config.training;
  return t.method === 'lora' ? new Lora(loraSettings(t.lora, modelType)) : undefined;
}

/** State tensors per trained tensor the train step takes besides the parameter itself. */
export function optimizerStateTensors(optimizer: OptimizerConfig, accumulation: number): number {
  const own = optimizer.kind === 'adamw' ? 2 : (optimizer.momentum ?? 0) !== 0 ? 1 : 0;
  return own + (accumulation > 1 ? 1 : 0);
}

function paramCounts(
  weights: Weights,
  trainable: ReadonlySet<string>,
  o: { optimizer: OptimizerConfig; accumulation: number },
): ParamCounts {
  let total = 0;
  let trained = 0;
  let frozenBytes = 0;
  for (const [name, t] of weights) {
    total += t.data.length;
    if (trainable.has(name)) trained += t.data.length;
    else frozenBytes += t.data.byteLength;
  }
  const trainedBytes = trained * 4;
  const stateBytes = trainedBytes * optimizerStateTensors(o.optimizer, o.accumulation);
  return { total, trained, trainedBytes, stateBytes, carriedBytes: trainedBytes + stateBytes, frozenBytes };
}

const n = (v: number) => v.toLocaleString('en-US');
const pct = (a: number, b: number) => {
  const p = (100 * a) / Math.max(1, b);
  return `${p >= 1 || p === 0 ? p.toFixed(2) : p.toPrecision(2)}%`;
};

export function prepareMethod(
  config: ResolvedConfig,
  recipe: TaskRecipe,
  o: { modelType: string; seed: number; optimizer: OptimizerConfig; accumulation: number; lora?: Lora },
): MethodPlan {
  const t = config.training;
  const name = t.method;
  const archPrefix = (recipe.model as { arch?: { basePrefix?: string } }).arch?.basePrefix;
  const basePrefix = archPrefix ?? basePrefixOf(o.modelType);
  const layout = modelLayout(recipe.model, basePrefix);
  // Buffers (BART's final_logits_bias) are weights no method trains, whatever the checkpoint lacks.
  const all = recipe.model.params.filter((p) => !p.buffer).map((p) => p.name);
  const buffers = new Set(recipe.model.params.filter((p) => p.buffer).map((p) => p.name));
  const fresh = new Set([...recipe.loadReport.missing, ...recipe.loadReport.reinitialized]);
  const freshBase = all.filter((p) => fresh.has(p) && !layout.head.includes(p));
  const notes: string[] = [];
  if (name !== 'freeze' && t.freeze_layers !== undefined)
    notes.push(`training.freeze_layers is ignored with method ${name}`);
  if (name !== 'lora' && t.lora !== undefined) notes.push(`training.lora is ignored with method ${name}`);

  let model = recipe.model;
  let weights = recipe.weights;
  let trainable: Set<string>;
  let what: string;
  const lora = name === 'lora' ? o.lora : undefined;
  if (name === 'full') {
    trainable = new Set(all);
    what = 'every weight trained';
  } else if (name === 'freeze') {
    // An encoder-decoder has two stacks of layers (T5's `block.N`, BART's `layers.N` in each), which
    // freeze_layers, a count from the embeddings up, does not describe.
    if (TASKS[config.task].inference === 'seq2seq')
      throw new Error(
        `method freeze: ${o.modelType} is an encoder-decoder, whose two stacks freeze_layers does not count yet; use method full or lora`,
      );
    if (layout.embeddings.length === 0 && layout.layers.length === 0)
      throw new Error(
        `method freeze: no base model layers found in this ${o.modelType} model; use method full or lora`,
      );
    if (t.freeze_layers === 'all' && layout.head.length === 0 && freshBase.length === 0) {
      throw new Error(
        'method freeze with freeze_layers all: this model has no head weights of its own (a causal LM head is tied to the token embeddings), so nothing would be trained; freeze a number of layers instead',
      );
    }
    const plan = planFreeze(layout, t.freeze_layers);
    for (const p of freshBase) plan.frozen.delete(p);
    trainable = new Set(all.filter((p) => !plan.frozen.has(p)));
    what = plan.description;
  } else {
    if (!lora) throw new Error('method lora: the adapters were not handed to the recipe');
    // PEFT's CAUSAL_LM and SEQ_2_SEQ_LM adapters save no modules_to_save: a pretrained LM head
    // (untied lm_head) stays frozen like the rest of the base; only one the checkpoint lacked is
    // trained. (T5's weights have no base prefix, so all of them count as head here.)
    const lmHead = ['CAUSAL_LM', 'SEQ_2_SEQ_LM'].includes(TASKS[config.task].peftTaskType ?? '');
    const head = (lmHead ? layout.head.filter((p) => fresh.has(p)) : layout.head).filter((p) => !buffers.has(p));
    const fullyTrained = new Set([...head, ...freshBase]);
    lora.plan(recipe.model, fullyTrained);
    model = lora.wrap(recipe.model);
    weights = new Map([...recipe.weights, ...lora.initWeights(o.seed * 7919 + 104729)]);
    trainable = new Set([...fullyTrained, ...lora.specs().map((s) => s.name)]);
    const { r, alpha, dropout, targetModules } = lora.settings;
    const targets =
      typeof targetModules === 'string'
        ? `${targetModules}: ${lora.savedTargets.join(', ')}`
        : targetModules.join(', ');
    what =
      `r ${r}, alpha ${alpha} (scale ${lora.scale}), dropout ${dropout}, on ${lora.modules.length} modules ` +
      `(target_modules: ${targets}); base model frozen, head trained (${head.length > 0 ? head.join(', ') : 'none'})`;
  }
  if (trainable.size === 0)
    throw new Error(`method ${name}: nothing left to train (the model has no weights outside the frozen ones)`);
  if (name !== 'full' && freshBase.length > 0)
    notes.push(`trained because the checkpoint lacks them (freshly initialised): ${freshBase.join(', ')}`);

  const counts = paramCounts(weights, trainable, o);
  const logLines = [
    `method ${name}: ${n(counts.trained)} of ${n(counts.total)} parameters trained (${pct(counts.trained, counts.total)}); ${what}`,
  ];
  if (lora) {
    const adapterNames = new Set(lora.specs().map((s) => s.name));
    counts.adapters = [...adapterNames].reduce((s, a) => s + (weights.get(a)?.data.length ?? 0), 0);
    const rest = counts.trained - counts.adapters;
    const perElement = counts.carriedBytes / Math.max(1, counts.trained); // parameter + its optimizer state
    logLines.push(
      `lora: ${n(counts.adapters)} adapter parameters in ${lora.modules.length} modules (${n(counts.adapters * perElement)} bytes carried per step with their optimizer state), ${n(rest)} head parameters (${n(rest * perElement)} bytes)`,
    );
  }
  logLines.push(
    `parameter bytes carried per step: ${n(counts.carriedBytes)} (trained parameters ${n(counts.trainedBytes)} + optimizer state ${n(counts.stateBytes)}); frozen weights stay in the session as initializers: ${n(counts.frozenBytes)} bytes`,
    ...notes,
  );

  const trainedInFull = lora ? all.filter((p) => trainable.has(p)) : [];
  return {
    name,
    model,
    weights,
    trainable,
    counts,
    logLines,
    ...(lora ? { lora } : {}),
    exportWeights: (w) => (lora ? lora.merge(w) : w),
    writeFinal(finalDir, w) {
      if (!lora) return;
      lora.writeAdapter(join(finalDir, 'adapter'), w, {
        baseModel: config.model,
        peftTaskType: TASKS[config.task].peftTaskType,
        trainedInFull,
        basePrefix,
      });
    },
  };
}
