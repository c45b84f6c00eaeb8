/**
 * What a run will cost on this machine: the one-step measurement `finetune estimate` records
 * (src/engine/train/estimate.ts), the time per epoch it implies, and the words the CodeLens and the
 * Start confirmation show. Pure arithmetic, browser-safe; the cache's files and key are in
 * src/shared/node/estimate-cache.ts.
 */

/** Bumped when the measurement changes meaning: older records are then not read. */
export const ESTIMATE_VERSION = 1;

/** One measurement, as `finetune estimate --format json` prints it and the cache stores it. */
export interface EstimateRecord {
  version: number;
  /** The cache key it was measured for (estimateKey). */
  key: string;
  measuredAt: string;
  /** Seconds of one optimizer step (gradient_accumulation_steps micro-batches) of a batch as training draws it. */
  stepSeconds: number;
  /** The engine process's peak resident memory (data, model, a step of the longest batch). */
  peakRssBytes: number;
  /** The shape of the timed batch: rows and padded tokens per row. */
  batchSize: number;
  tokens: number;
  /** Tokens per row of the longest batch, the one the memory peak comes from. */
  longestTokens: number;
  /** Training rows after cleaning and the validation split; the data stamp says which data. */
  trainRows: number;
  dataStamp: string;
  gradientAccumulationSteps: number;
  /** ONNX Runtime intra-op threads (0: its default, one per core) and the device the step ran on. */
  threads: number;
  device: string;
}

/** Optimizer steps per epoch, as the trainer counts them (trainer.ts: micro-batches, then steps of k). */
export function stepsPerEpoch(rows: number, batchSize: number, accumulation: number): number {
  return Math.ceil(Math.ceil(rows / batchSize) / Math.max(1, accumulation));
}

/** Seconds per epoch: step time × steps per epoch (evaluation not counted). */
export function epochSeconds(stepSeconds: number, rows: number, batchSize: number, accumulation: number): number {
  return stepSeconds * stepsPerEpoch(rows, batchSize, accumulation);
}

/** "40 s", "4 min", "1.5 h": a duration rounded as a person reads an estimate. */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = seconds / 60;
  if (minutes < 90) return `${Math.round(minutes)} min`;
  const hours = minutes / 60;
  return `${hours < 10 ? hours.toFixed(1) : Math.round(hours)} h`;
}

/** "1.9 GB", "640 MB": bytes in decimal units, as people read memory sizes. */
export function formatBytes(bytes: number): string {
  const gb = bytes / 1e9;
  if (gb >= 10) return `${Math.round(gb)} GB`;
  if (gb >= 1) return `${gb.toFixed(1)} GB`;
  return `${Math.max(1, Math.round(bytes / 1e6))} MB`;
}

/** What the CodeLens line says: the measured figures, or the memory estimate before a measurement. */
export interface CostSummary {
  /** Bytes: the measured peak when there is a measurement, else the formula's estimate. */
  memoryBytes?: number;
  /** Seconds per epoch; undefined until measured (or when the data changed since). */
  epochSeconds?: number;
  epochs: number;
}

/** `≈ 1.9 GB · ≈ 4 min/epoch on this machine`; undefined when nothing is known. */
export function costLensTitle(s: CostSummary): string | undefined {
  const parts: string[] = [];
  if (s.memoryBytes !== undefined) parts.push(`≈ ${formatBytes(s.memoryBytes)}`);
  if (s.epochSeconds !== undefined) parts.push(`≈ ${formatDuration(s.epochSeconds)}/epoch`);
  if (parts.length === 0) return undefined;
  return `${parts.join(' · ')} on this machine`;
}

/** A run longer than this asks before it starts. */
export const LONG_RUN_SECONDS = 3600;

/**
 * Why the Start confirmation warns: more memory than is free, or a run longer than an hour
 * (epochs × time per epoch). Empty when neither.
 */
export function costWarnings(s: CostSummary, freeBytes: number): string[] {
  const out: string[] = [];
  if (s.memoryBytes !== undefined && s.memoryBytes > freeBytes)
    out.push(`it needs about ${formatBytes(s.memoryBytes)} of memory and ${formatBytes(freeBytes)} is free`);
  if (s.epochSeconds !== undefined && s.epochSeconds * s.epochs > LONG_RUN_SECONDS)
    out.push(`${s.epochs} epochs take about ${formatDuration(s.epochSeconds * s.epochs)} on this machine`);
  return out;
}
