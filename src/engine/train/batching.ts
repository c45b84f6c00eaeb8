import { rng, shuffle } from '../util/random.js';

/**
 * The micro-batches of one epoch. Batches are padded to their longest example, so with
 * `groupByLength` examples of similar length share batches, as Hugging Face's
 * `LengthGroupedSampler` does: the (shuffled) order is cut into megabatches of up to 50 optimizer
 * batches, each megabatch sorted longest first, and the megabatch holding the longest example goes
 * first, so a run that does not fit in memory fails on its first step rather than hours in.
 */
export interface EpochOrder {
  batchSize: number;
  /** Examples per optimizer step (batch size × gradient accumulation): the unit of a megabatch. */
  stepExamples: number;
  shuffle: boolean;
  groupByLength: boolean;
  seed: number;
  epoch: number;
}

export const batchesOf = <E>(items: readonly E[], size: number): E[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

export function epochBatches<E>(items: readonly E[], o: EpochOrder, lengthOf: (e: E) => number): E[][] {
  const order = [...items];
  if (o.shuffle) shuffle(order, rng(o.seed * 7919 + o.epoch));
  if (!o.groupByLength) return batchesOf(order, o.batchSize);
  // transformers' get_length_grouped_indices: min(n / (4 × batch), 50) batches per megabatch, at least one.
  const perMega = Math.max(1, Math.min(Math.floor(order.length / (o.stepExamples * 4)), 50)) * o.stepExamples;
  const lengths = new Map(order.map((e) => [e, lengthOf(e)] as const));
  const len = (e: E) => lengths.get(e) as number;
  const megabatches = batchesOf(order, perMega).map((m) => m.sort((a, b) => len(b) - len(a)));
  const first = megabatches[0];
  if (first && first.length > 0) {
    let longest = 0;
    megabatches.forEach((m, i) => {
      if (len(m[0] as E) > len((megabatches[longest] as E[])[0] as E)) longest = i;
    });
    const top = megabatches[longest] as E[];
    [first[0], top[0]] = [top[0] as E, first[0] as E];
  }
  return batchesOf(megabatches.flat(), o.batchSize);
}
