import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedLoraConfig } from '../../shared/config.js';
import { MAX_MODEL_JSON_BYTES } from '../../shared/limits.js';
import { GraphBuilder } from '../graph/builder.js';
import { Graph } from '../graph/graph.js';
import type { TensorData, Value } from '../graph/types.js';
import { writeTextAtomic } from '../io/atomic.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { AdapterHook } from '../models/layers.js';
import type { ParamSpec, TrainableModel, Weights } from '../models/model.js';
import { findFamily } from '../models/registry.js';
import { readJsonBounded } from '../util/bounded-read.js';
import { rng } from '../util/random.js';

/**
 * LoRA (Hu et al. 2021) as PEFT implements it: next to each targeted linear layer (Linear, or
 * GPT-2's Conv1D), y = W x + b + (alpha / r) · B A dropout(x), with A [r, in] drawn as PEFT's
 * default `kaiming_uniform_(a = sqrt(5))` (uniform on ±1/sqrt(in)) and B [out, r] zeros, so
 * training starts from the pretrained function. Base weights stay frozen (initializers); the
 * adapters and the task head are trained.
 *
 * The adapters reach the model through BlockContext.adapters, which `linear` and `conv1d` consult
 * for every module they build: the model families need no change. Which modules exist is learnt by
 * running the model's forward pass once on a scratch graph with a probing hook, so target names are
 * matched against the model's real linear layers, as PEFT matches them against named_modules():
 * a module matches a target when its name equals it or ends with `.<target>`.
 *
 * Adapter parameters are named `<module>.lora_A.weight` / `<module>.lora_B.weight`; in PEFT's saved
 * layout (adapter_model.safetensors) they get the `base_model.model.` prefix, and so do the trained
 * head weights (PEFT's modules_to_save, saved without `modules_to_save.default`).
 */
export interface LoraSettings {
  r: number;
  alpha: number;
  dropout: number;
  /** Module names (matched as PEFT's list form), or `all-linear`. */
  targetModules: readonly string[] | typeof ALL_LINEAR;
  /** rsLoRA: scale alpha / sqrt(r) instead of alpha / r. */
  useRslora?: boolean;
}

/**
 * PEFT's `target_modules="all-linear"`: every linear layer except the output head. The heads here
 * never reach the adapter hook (the LM head is a plain product, classifier heads are trained in
 * full), so it is every linear module the probe sees that is not trained in full.
 */
export const ALL_LINEAR = 'all-linear';

export function loraSettings(cfg: ResolvedLoraConfig, modelType: string): LoraSettings {
  const targets = cfg.target_modules ?? findFamily(modelType)?.loraTargets;
  if (!targets || targets.length === 0) {
    throw new Error(
      `method lora: no default target modules for model_type '${modelType}'; set training.lora.target_modules to the names of its linear layers`,
    );
  }
  const r = cfg.r;
  if (!Number.isInteger(r) || r < 1) throw new Error(`training.lora.r must be a whole number >= 1, got ${r}`);
  return {
    r,
    alpha: cfg.alpha,
    dropout: cfg.dropout,
    targetModules: targets === ALL_LINEAR ? ALL_LINEAR : [...targets],
    useRslora: cfg.use_rslora,
  };
}

export interface LinearDims {
  in: number;
  out: number;
  /** GPT-2's Conv1D: the base weight is stored [in, out]. */
  fanInFanOut: boolean;
}

export interface AdaptedModule extends LinearDims {
  module: string;
  A: string;
  B: string;
}

export const PEFT_PREFIX = 'base_model.model.';
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

/** Does PEFT's list form of target_modules select `module`? */
export const matchesTarget = (module: string, target: string): boolean =>
  module === target || module.endsWith(`.${target}`);

export class Lora {
  private mode: 'off' | 'probe' | 'on' = 'off';
  private readonly seen = new Map<string, LinearDims>();
  private readonly planned = new Map<string, AdaptedModule>();

  constructor(readonly settings: LoraSettings) {}

  get scale(): number {
    const { alpha, r, useRslora } = this.settings;
    return useRslora ? alpha / Math.sqrt(r) : alpha / r;
  }

  /**
   * target_modules as adapter_config.json records it: the list given, or for `all-linear` the
   * distinct last name parts of the adapted modules, the set PEFT expands it to before saving.
   */
  get savedTargets(): string[] {
    const { targetModules } = this.settings;
    if (targetModules !== ALL_LINEAR) return [...targetModules];
    return [...new Set(this.modules.map((m) => m.module.slice(m.module.lastIndexOf('.') + 1)))].sort();
  }

  get modules(): AdaptedModule[] {
    return [...this.planned.values()];
  }

  /** For BlockContext.adapters (through the recipe): active only inside the wrapped model's forward. */
  readonly hook: AdapterHook = (module, param, dims) => {
    if (this.mode === 'probe') {
      if (!this.seen.has(module)) this.seen.set(module, { ...dims });
      return undefined;
    }
    const m = this.mode === 'on' ? this.planned.get(module) : undefined;
    return m && { A: param(m.A), B: param(m.B), scale: this.scale, dropout: this.settings.dropout };
  };

  /** Every linear module the model's forward pass builds, by name, learnt from a scratch graph. */
  linearModules(model: TrainableModel): Map<string, LinearDims> {
    const g = new GraphBuilder(new Graph('lora_probe'));
    const inputs = Object.fromEntries(model.batchInputs.map((b) => [b.name, g.input(b.name, b.dtype, b.shape)]));
    const values = new Map(model.params.map((s) => [s.name, g.input(s.name, 'float32', s.shape)]));
    const param = (name: string): Value => {
      const v = values.get(name);
      if (!v) throw new Error(`the model's forward pass reads '${name}', which is not among its parameters`);
      return v;
    };
    this.seen.clear();
    this.mode = 'probe';
    try {
      model.forward(g, param, inputs, 'eval');
    } finally {
      this.mode = 'off';
    }
    return new Map(this.seen);
  }

  /**
   * Chooses the adapted modules of `model`: its linear layers that match a target, leaving out
   * those trained in full (`trained`: the head, weights the checkpoint lacks). Errors name the
   * model's linear layers when a target matches none of them.
   */
  plan(model: TrainableModel, trained: ReadonlySet<string>): AdaptedModule[] {
    const linear = this.linearModules(model);
    if (linear.size === 0) {
      throw new Error(
        "method lora: the model's forward pass built no linear layer through the adapter hook (this task's recipe does not pass RecipeOptions.adapters to its model)",
      );
    }
    const { targetModules } = this.settings;
    this.planned.clear();
    const all = targetModules === ALL_LINEAR;
    for (const target of all ? [ALL_LINEAR] : targetModules) {
      const matched = [...linear.keys()].filter((m) => all || matchesTarget(m, target));
      const frozen = matched.filter((m) => !trained.has(`${m}.weight`));
      if (frozen.length === 0) {
        const names = [...new Set([...linear.keys()].map((m) => m.slice(m.lastIndexOf('.') + 1)))].join(', ');
        throw new Error(
          matched.length === 0
            ? `training.lora.target_modules: '${target}' matches no linear layer of this model (its linear layers are named: ${names})`
            : `training.lora.target_modules: '${target}' matches only modules that are trained in full (${matched.join(', ')})`,
        );
      }
      for (const module of frozen) {
        const dims = linear.get(module) as LinearDims;
        this.planned.set(module, { module, ...dims, A: `${module}.lora_A.weight`, B: `${module}.lora_B.weight` });
      }
    }
    return this.modules;
  }

  /**
   * The adapter parameters: A [r, in], B [out, r] per module. The specs' init (a normal of the same
   * variance as PEFT's uniform) is only a fallback: `initWeights` draws PEFT's own distribution.
   */
  specs(): ParamSpec[] {
    const { r } = this.settings;
    return this.modules.flatMap((m): ParamSpec[] => [
      { name: m.A, shape: [r, m.in], init: { kind: 'normal', std: 1 / Math.sqrt(3 * m.in) } },
      { name: m.B, shape: [m.out, r], init: { kind: 'zeros' } },
    ]);
  }

  /** Fresh adapters: A ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ with a = sqrt(5)), B = 0. */
  initWeights(seed: number): Weights {
    const rand = rng(seed);
    const { r } = this.settings;
    const out: Weights = new Map();
    for (const m of this.modules) {
      const bound = 1 / Math.sqrt(m.in);
      const a = new Float32Array(r * m.in);
      for (let i = 0; i < a.length; i++) a[i] = (2 * rand() - 1) * bound;
      out.set(m.A, { dtype: 'float32', dims: [r, m.in], data: a });
      out.set(m.B, { dtype: 'float32', dims: [m.out, r], data: new Float32Array(m.out * r) });
    }
    return out;
  }

  /** The model with the adapter parameters added and the adapters active in its forward pass. */
  wrap(model: TrainableModel): TrainableModel {
    const specs = this.specs();
    return {
      ...model,
      params: [...model.params, ...specs],
      forward: (g, param, inputs, mode) => {
        this.mode = 'on';
        try {
          return model.forward(g, param, inputs, mode);
        } finally {
          this.mode = 'off';
        }
      },
    };
  }

  /** Base weights with every adapter merged in (W' = W + scale · B A, transposed for Conv1D), adapters dropped. */
  merge(weights: Weights): Weights {
    const adapterNames = new Set(this.modules.flatMap((m) => [m.A, m.B]));
    const out: Weights = new Map();
    for (const [name, t] of weights) if (!adapterNames.has(name)) out.set(name, t);
    for (const m of this.modules) {
      const w = weights.get(`${m.module}.weight`);
      const a = weights.get(m.A);
      const b = weights.get(m.B);
      if (!w || !a || !b) throw new Error(`LoRA merge: weights of '${m.module}' are missing`);
      out.set(`${m.module}.weight`, mergedWeight(w, a, b, this.scale, m));
    }
    return out;
  }

  /** Trained weights in PEFT's saved layout: adapters and full-trained modules (modules_to_save). */
  peftTensors(weights: Weights, trainedInFull: readonly string[]): Map<string, TensorData> {
    const out = new Map<string, TensorData>();
    for (const name of [...this.modules.flatMap((m) => [m.A, m.B]), ...trainedInFull]) {
      const t = weights.get(name);
      if (!t) throw new Error(`LoRA: no weights for '${name}'`);
      out.set(`${PEFT_PREFIX}${name}`, t);
    }
    return out;
  }

  /**
   * Writes a PEFT adapter folder: adapter_config.json and adapter_model.safetensors, loadable by
   * `PeftModel.from_pretrained(AutoModelFor...(base), dir)`.
   */
  writeAdapter(
    dir: string,
    weights: Weights,
    o: { baseModel: string; peftTaskType: string | null; trainedInFull: readonly string[]; basePrefix: string },
  ): void {
    mkdirSync(dir, { recursive: true });
    writeSafetensors(join(dir, ADAPTER_WEIGHTS_FILE), this.peftTensors(weights, o.trainedInFull));
    const config = {
      base_model_name_or_path: o.baseModel,
      bias: 'none',
      fan_in_fan_out: this.modules.some((m) => m.fanInFanOut),
      inference_mode: true,
      init_lora_weights: true,
      layers_pattern: null,
      layers_to_transform: null,
      lora_alpha: this.settings.alpha,
      lora_dropout: this.settings.dropout,
      modules_to_save: modulesToSave(o.trainedInFull, o.basePrefix),
      peft_type: 'LORA',
      r: this.settings.r,
      revision: null,
      target_modules: this.savedTargets,
      task_type: o.peftTaskType,
      use_rslora: this.settings.useRslora ?? false,
    };
    writeTextAtomic(join(dir, ADAPTER_CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
  }
}

/**
 * PEFT's modules_to_save for weights trained in full: the head's top-level modules (`classifier`,
 * `pre_classifier`) and the full module path of any base weight trained because the checkpoint
 * lacked it. PEFT selects modules_to_save by name suffix, so both forms find their module.
 */
export function modulesToSave(trainedInFull: readonly string[], basePrefix: string): string[] | null {
  const modules = new Set<string>();
  for (const name of trainedInFull) {
    const module = name.slice(0, name.lastIndexOf('.'));
    const inBase = basePrefix !== '' && module.startsWith(`${basePrefix}.`);
    modules.add(inBase ? module : (module.split('.')[0] as string));
  }
  return modules.size > 0 ? [...modules] : null;
}

function mergedWeight(w: TensorData, a: TensorData, b: TensorData, scale: number, m: LinearDims): TensorData {
  const r = a.dims[0] as number;
  const A = a.data as Float32Array;
  const B = b.data as Float32Array;
  const W = w.data as Float32Array;
  const out = new Float32Array(W.length);
  for (let o = 0; o < m.out; o++) {
    for (let i = 0; i < m.in; i++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += (B[o * r + k] as number) * (A[k * m.in + i] as number);
      // Linear stores W [out, in]; Conv1D stores it [in, out] (PEFT's transpose(B A, fan_in_fan_out)).
      const at = m.fanInFanOut ? i * m.out + o : o * m.in + i;
      out[at] = (W[at] as number) + scale * s;
    }
  }
  return { dtype: 'float32', dims: [...w.dims], data: out };
}

/** A PEFT adapter folder read back: its config and its tensors under our parameter names (prefix removed). */
export function readPeftAdapter(dir: string): { config: Record<string, unknown>; weights: Weights } {
  const configFile = join(dir, ADAPTER_CONFIG_FILE);
  if (!existsSync(configFile))
    throw new Error(`${dir} is not a PEFT adapter folder: ${ADAPTER_CONFIG_FILE} is missing`);
  const config = readJsonBounded(configFile, MAX_MODEL_JSON_BYTES, `a ${ADAPTER_CONFIG_FILE}`) as Record<
    string,
    unknown
  >;
  const weights: Weights = new Map();
  for (const [name, t] of readSafetensors(join(dir, ADAPTER_WEIGHTS_FILE)).tensors) {
    weights.set(name.startsWith(PEFT_PREFIX) ? name.slice(PEFT_PREFIX.length) : name, t);
  }
  return { config, weights };
}
