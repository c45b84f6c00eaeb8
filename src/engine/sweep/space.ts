import type { ParameterValue, SweepParameter } from '../../shared/config-sweep.js';

/**
 * A sweep parameter as a distribution, in Optuna's terms: `choice` and `grid` are categorical
 * (internally the index of the value), `uniform` and `loguniform` are floats (log: the sampler
 * works on the logarithm), `int` is an integer with a step. Random draws follow Optuna's
 * RandomSampler (through _SearchSpaceTransform): uniform in [low, high] (in log space for log),
 * integers uniform in [low − step/2, high + step/2] rounded to the step grid, choices uniform.
 */
export type Distribution =
  | { kind: 'categorical'; choices: readonly ParameterValue[] }
  | { kind: 'float'; low: number; high: number; log: boolean }
  | { kind: 'int'; low: number; high: number; step: number };

export function distributionOf(p: SweepParameter): Distribution {
  switch (p.type) {
    case 'choice':
    case 'grid':
      return { kind: 'categorical', choices: p.values ?? [] };
    case 'uniform':
    case 'loguniform':
      return { kind: 'float', low: p.low as number, high: p.high as number, log: p.type === 'loguniform' };
    case 'int':
      return { kind: 'int', low: p.low as number, high: p.high as number, step: p.step ?? 1 };
  }
}

/** The number a sampler works with: a choice's index, else the value itself. */
export function toInternal(d: Distribution, value: ParameterValue): number {
  if (d.kind !== 'categorical') return value as number;
  const i = d.choices.indexOf(value);
  if (i < 0) throw new Error(`${JSON.stringify(value)} is not one of the choices ${JSON.stringify(d.choices)}`);
  return i;
}

export function toExternal(d: Distribution, internal: number): ParameterValue {
  return d.kind === 'categorical' ? (d.choices[internal] as ParameterValue) : internal;
}

/** numpy's round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** An integer distribution's value nearest x: on the step grid from low, inside [low, high]. */
export function snapToStep(x: number, low: number, high: number, step: number): number {
  return Math.min(high, Math.max(low, low + roundHalfEven((x - low) / step) * step));
}

/** One value drawn as Optuna's RandomSampler draws it. */
export function sampleRandom(d: Distribution, rand: () => number): ParameterValue {
  const u = rand();
  if (d.kind === 'categorical')
    return d.choices[Math.min(d.choices.length - 1, Math.floor(u * d.choices.length))] as ParameterValue;
  if (d.kind === 'float') {
    if (!d.log) return d.low + u * (d.high - d.low);
    return Math.min(d.high, Math.max(d.low, Math.exp(Math.log(d.low) + u * (Math.log(d.high) - Math.log(d.low)))));
  }
  const low = d.low - d.step / 2;
  return snapToStep(low + u * (d.high + d.step / 2 - low), d.low, d.high, d.step);
}

/** A copy of a config value with the dotted `key` set (sections created where missing). */
export function withValue(
  config: Record<string, unknown>,
  key: string,
  value: ParameterValue,
): Record<string, unknown> {
  const [head, ...rest] = key.split('.') as [string, ...string[]];
  if (rest.length === 0) return { ...config, [head]: value };
  const inner = config[head];
  const section =
    inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? (inner as Record<string, unknown>) : {};
  return { ...config, [head]: withValue(section, rest.join('.'), value) };
}
