import { tensorOf } from '../../../src/engine/graph/types.js';
import type { Batch } from '../../../src/engine/step/batch.js';
import type { referenceBatch } from '../../fixtures/tiny-decoders.js';

/** The fixtures' fixed causal-LM batch as graph feeds. */
export function batchOf(b: ReturnType<typeof referenceBatch>): Batch {
  const B = b.input_ids.length;
  const T = (b.input_ids[0] as number[]).length;
  return {
    input_ids: tensorOf('int64', [B, T], b.input_ids.flat()),
    attention_mask: tensorOf('int64', [B, T], b.attention_mask.flat()),
    labels: tensorOf('int64', [B, T], b.labels.flat()),
  };
}
