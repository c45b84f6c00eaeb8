import { tensorOf } from '../graph/types.js';
import type { Batch } from '../step/batch.js';
import { rng } from '../util/random.js';

/**
 * A synthetic sequence-classification task the selftest and the convergence test generate: random
 * token sequences of varied length, each holding one "marker" token somewhere after [CLS]; the label
 * is which marker. The model must find the marker at any position and carry it to [CLS] through
 * attention, so learning it exercises every part of the encoder.
 */
export interface Example {
  ids: number[];
  label: number;
}

export const PAD = 0;
export const CLS = 1;

export interface MarkerTaskOptions {
  count: number;
  numLabels: number;
  vocabSize: number;
  minLength: number;
  maxLength: number;
  seed: number;
}

export function markerTask(o: MarkerTaskOptions): Example[] {
  const rand = rng(o.seed);
  const firstFiller = 2 + o.numLabels; // tokens 2 .. 2+numLabels-1 are markers
  if (o.vocabSize <= firstFiller + 1) throw new Error('markerTask: vocabulary too small for the markers');
  return Array.from({ length: o.count }, () => {
    const length = o.minLength + Math.floor(rand() * (o.maxLength - o.minLength + 1));
    const ids = [CLS];
    for (let i = 1; i < length; i++) ids.push(firstFiller + Math.floor(rand() * (o.vocabSize - firstFiller)));
    const label = Math.floor(rand() * o.numLabels);
    ids[1 + Math.floor(rand() * (length - 1))] = 2 + label;
    return { ids, label };
  });
}

/** Pads a batch to its longest sequence: input_ids, attention_mask, position_ids, labels. */
export function collate(examples: readonly Example[]): Batch {
  const T = Math.max(...examples.map((e) => e.ids.length));
  const B = examples.length;
  const ids = new Array<number>(B * T).fill(PAD);
  const mask = new Array<number>(B * T).fill(0);
  const positions = new Array<number>(B * T);
  examples.forEach((e, b) => {
    for (let t = 0; t < T; t++) {
      positions[b * T + t] = t;
      if (t < e.ids.length) {
        ids[b * T + t] = e.ids[t] as number;
        mask[b * T + t] = 1;
      }
    }
  });
  return {
    input_ids: tensorOf('int64', [B, T], ids),
    attention_mask: tensorOf('int64', [B, T], mask),
    position_ids: tensorOf('int64', [B, T], positions),
    labels: tensorOf(
      'int64',
      [B],
      examples.map((e) => e.label),
    ),
  };
}
