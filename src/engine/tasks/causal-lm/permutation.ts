import { tensorOf } from '../../graph/types.js';
import type { Batch } from '../../step/batch.js';

/**
 * The permutation language model's batch, as transformers' DataCollatorForPermutationLanguageModeling
 * (_torch_collate_batch, then torch_mask_tokens) builds it from rows of token ids:
 *
 * 0. rows of different lengths are padded to the longest with the pad token, on the tokenizer's
 *    padding side (XLNet's is the left);
 * 1. spans to predict: from cur_len = 0, draw span_length in [1, max_span_length], reserve
 *    context_length = int(span_length / plm_probability) tokens, mask span_length of them from a
 *    start drawn in [cur_len, cur_len + context_length - span_length], move cur_len on by
 *    context_length, until the padded row is covered (spans may run past its end);
 * 2. special tokens and padding are never predicted; predicted tokens become the mask token in
 *    input_ids and keep their id in labels, every other label is -100;
 * 3. target_mapping is the identity (the i-th prediction is the i-th token);
 * 4. a factorisation order per row: 0..T-1 cut into two halves whose columns are permuted
 *    together (the halves never cross), then every token that is neither predicted nor special
 *    nor padding gets order -1; perm_mask[i][j] = 1 (i may not see j) when order[i] <= order[j]
 *    and j is predicted.
 *
 * Two departures, both about padding: the batch also carries `attention_mask` (0 on padding),
 * which XLNetLMHeadModel accepts but the collator leaves out, so that no token attends to the
 * padding and a row's loss does not depend on its batch-mates' lengths; and where the longest row
 * is odd, one more pad token makes the length even (the collator refuses an odd length, which
 * line-by-line batches hit at random). Padding is never predicted and hidden from attention, so
 * neither changes what a row's tokens compute.
 *
 * The draws come from the given seeded generator (not torch's), so the masks are reproducible
 * and a resumed run draws what an uninterrupted one would.
 */
export interface PermutationOptions {
  plmProbability: number;
  maxSpanLength: number;
  maskId: number;
  /** Special tokens (the tokenizer's all_special_ids) and the pad token: never predicted. */
  isSpecial: (id: number) => boolean;
  /** The pad token and side that rows of different lengths are padded with; without it rows must be equal. */
  padding?: { id: number; side: 'left' | 'right' };
  rand: () => number;
}

/** DataCollatorForPermutationLanguageModeling's defaults. */
export const PLM_DEFAULTS = { plmProbability: 1 / 6, maxSpanLength: 5 } as const;

/** torch.randint(low, high) with the run's generator: an integer in [low, high). */
const randint = (rand: () => number, low: number, high: number) => low + Math.floor(rand() * (high - low));

/** Step 1: which tokens of a block of T are predicted. */
export function predictedSpans(T: number, o: Pick<PermutationOptions, 'plmProbability' | 'maxSpanLength' | 'rand'>) {
  const masked = new Array<boolean>(T).fill(false);
  for (let cur = 0; cur < T; ) {
    const span = randint(o.rand, 1, o.maxSpanLength + 1);
    const context = Math.trunc(span / o.plmProbability);
    const start = cur + randint(o.rand, 0, context - span + 1);
    for (let t = start; t < Math.min(start + span, T); t++) masked[t] = true;
    cur += context;
  }
  return masked;
}

/** Step 4: the factorisation order of a block of T (even): two halves permuted column-wise together. */
export function factorisationOrder(T: number, rand: () => number): number[] {
  const half = T / 2;
  // torch.randperm(half): a uniform permutation of the columns.
  const columns = Array.from({ length: half }, (_, i) => i);
  for (let i = half - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [columns[i], columns[j]] = [columns[j] as number, columns[i] as number];
  }
  // arange(T).reshape(2, half).T[perm].T.flatten(): the first half's columns, then the second's.
  return [...columns, ...columns.map((c) => c + half)];
}

/** The rows' length once padded: the longest, made even. */
function paddedLength(rows: readonly (readonly number[])[], o: PermutationOptions): number {
  const longest = Math.max(0, ...rows.map((r) => r.length));
  if (!o.padding) {
    if (rows.some((r) => r.length !== longest))
      throw new Error('permutation LM: the blocks of a batch differ in length and no pad token is given');
    if (longest % 2 !== 0)
      throw new Error(
        `permutation LM: sequence length ${longest} is odd; the perm_mask needs an even length (data.max_length)`,
      );
    return longest;
  }
  return longest + (longest % 2);
}

export function permutationBatch(rows: readonly (readonly number[])[], o: PermutationOptions): Batch {
  const B = rows.length;
  const T = paddedLength(rows, o);
  // Each row padded to T; null marks padding.
  const padded = rows.map((row) => {
    const pad = new Array<number | null>(T - row.length).fill(null);
    return o.padding?.side === 'right' ? [...row, ...pad] : [...pad, ...row];
  });
  const functional = (id: number | null) => id === null || o.isSpecial(id);
  const ids: number[] = [];
  const labels: number[] = [];
  const attention: number[] = [];
  const perm = new Array<number>(B * T * T).fill(0);
  const mapping = new Array<number>(B * T * T).fill(0);
  // Masks are drawn for the whole batch first, then the orders, as the collator's two loops.
  const predicted = padded.map((row) => {
    const masked = predictedSpans(T, o);
    return masked.map((m, t) => m && !functional(row[t] ?? null));
  });
  padded.forEach((row, b) => {
    const masked = predicted[b] as boolean[];
    row.forEach((id, t) => {
      const token = id ?? (o.padding?.id as number);
      ids.push(masked[t] ? o.maskId : token);
      labels.push(masked[t] ? token : -100);
      attention.push(id === null ? 0 : 1);
      mapping[(b * T + t) * T + t] = 1;
    });
  });
  padded.forEach((row, b) => {
    const masked = predicted[b] as boolean[];
    const order = factorisationOrder(T, o.rand).map((k, t) => (!masked[t] && !functional(row[t] ?? null) ? -1 : k));
    for (let i = 0; i < T; i++)
      for (let j = 0; j < T; j++)
        if (masked[j] && (order[i] as number) <= (order[j] as number)) perm[(b * T + i) * T + j] = 1;
  });
  return {
    input_ids: tensorOf('int64', [B, T], ids),
    attention_mask: tensorOf('int64', [B, T], attention),
    perm_mask: tensorOf('float32', [B, T, T], perm),
    target_mapping: tensorOf('float32', [B, T, T], mapping),
    labels: tensorOf('int64', [B, T], labels),
  };
}
