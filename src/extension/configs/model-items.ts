import { isAbsolute, relative, sep } from 'node:path';
import { formatBytes } from '../../shared/limits.js';
import type { ModelInfo } from '../../shared/node/model-scan.js';

/**
 * How the model picker (and completion on `model:`) shows a model: one line of facts and one of
 * fitness. No 'vscode' import: the QuickPick in guided-config.ts and the completion provider
 * turn these into their own items.
 */
export interface ModelItem {
  label: string;
  description: string;
  detail: string;
  /** What `model:` should say, from the config's folder. */
  value: string;
  info: ModelInfo;
}

/** 124M, 1.1B, 7B: parameter counts as model cards write them. */
export function formatParameters(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, unit] of units) {
    if (n >= size) {
      const v = n / size;
      return `${v >= 100 ? Math.round(v) : Number(v.toPrecision(2))}${unit}`;
    }
  }
  return String(n);
}

/** A path as a config names it: relative to its folder, `/`-separated, when inside it; else absolute. */
export function configRelative(configFolder: string, path: string): string {
  const rel = relative(configFolder, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel.split(sep).join('/');
}

/** `model:` for a model: a Hub id as it is, a folder relative to the config's folder (`./…`) when inside it. */
export function modelValue(info: ModelInfo, configFolder: string): string {
  if (info.source === 'cache') return info.id;
  const rel = configRelative(configFolder, info.dir);
  return rel === info.dir ? rel : `./${rel}`;
}

/** The facts: family, parameters, dtype and size on disk, as far as they are known. */
export function modelFacts(info: ModelInfo): string {
  const facts = [
    info.modelType ?? 'unknown family',
    info.parameters !== undefined ? `${formatParameters(info.parameters)} parameters` : undefined,
    info.dtypes.length > 0 ? info.dtypes.join('+') : undefined,
    formatBytes(info.bytes),
  ];
  return facts.filter((f) => f !== undefined).join(' · ');
}

export function modelItem(info: ModelInfo, configFolder: string): ModelItem {
  const value = modelValue(info, configFolder);
  const fit = info.support.supported
    ? `Trains: ${info.tasks.join(', ')}`
    : `Not supported: ${info.support.reason ?? 'unknown reason'}`;
  return {
    label: `${info.support.supported ? '$(check)' : '$(warning)'} ${value}`,
    description: `${info.source === 'cache' ? 'Hugging Face cache' : 'workspace'} · ${modelFacts(info)}`,
    detail: fit,
    value,
    info,
  };
}

/** Every model found, supported ones first, each group in the scan's order. */
export function modelItems(models: readonly ModelInfo[], configFolder: string): ModelItem[] {
  const items = models.map((m) => modelItem(m, configFolder));
  return [...items.filter((i) => i.info.support.supported), ...items.filter((i) => !i.info.support.supported)];
}
