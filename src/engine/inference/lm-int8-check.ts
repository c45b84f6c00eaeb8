import { resolve } from 'node:path';
import { loadTexts } from '../data/load.js';
import { type LoadedCausalLm, loadCausalLm } from './causal-lm-model.js';
import { INT8_SCHEME, type QuantizationReport, runValidation } from './int8-check.js';

/**
 * What int8 quantization costs a causal LM: the validation perplexity (what `finetune evaluate`
 * computes: each text alone, every token scored) of float32 and of int8, and the drop as the
 * relative perplexity increase in percent, (ppl_int8 / ppl_float32 − 1) × 100, judged against
 * --max-drop as an encoder's metric drop in points is.
 */

/** The validation texts: `--data` (its text column, as `finetune evaluate` reads it), else the run's validation rows. */
export async function lmValidationTexts(
  folder: string,
  o: { data?: string | undefined; textColumn?: string | undefined },
): Promise<{ texts: string[]; source: string }> {
  if (o.data !== undefined) {
    return { texts: await loadTexts(resolve(o.data), o.textColumn), source: resolve(o.data) };
  }
  const { examples, source } = await runValidation(folder);
  const texts = examples.map((e) => {
    if (e.kind === 'text') return e.text;
    if (e.kind === 'completion') return `${e.prompt}${e.completion}`;
    throw new Error(
      `${source}: the run's validation rows are ${e.kind} rows; pass --data <file> with a text column to measure the int8 perplexity change on`,
    );
  });
  return { texts, source };
}

/** Evaluates `float` and its int8 rewrite on the texts; refused (accepted: false) above maxDrop percent. */
export async function measureLmInt8(
  float: LoadedCausalLm,
  validation: { texts: string[]; source: string },
  maxDrop: number,
): Promise<QuantizationReport> {
  if (validation.texts.length === 0) throw new Error(`${validation.source}: no validation texts to measure int8 on`);
  const int8 = await loadCausalLm(float.folder, { device: 'cpu', quantize: 'int8' });
  try {
    const before = await float.evaluateTexts(validation.texts);
    const after = await int8.evaluateTexts(validation.texts);
    const drop = (after.perplexity / before.perplexity - 1) * 100;
    return {
      quantization: 'int8-dynamic',
      scheme: INT8_SCHEME,
      validation: { data: validation.source, examples: validation.texts.length },
      metric: 'perplexity (drop: increase in percent)',
      float32: before.perplexity,
      int8: after.perplexity,
      drop,
      max_drop: maxDrop,
      accepted: drop <= maxDrop,
    };
  } finally {
    await int8.dispose();
  }
}
