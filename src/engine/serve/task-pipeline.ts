import { invalidRequest } from './api-error.js';

/**
 * What POST /predict needs of a task: the request body's inputs and parameters (Hugging Face's
 * Inference API shape `{"inputs": ..., "parameters": {...}}`), a batched run over many inputs (one
 * engine run: what the dynamic batcher calls), and the per-input output in the shape of the task's
 * transformers pipeline.
 */
export interface TaskPipeline<I, R> {
  parse(body: unknown): ParsedPredict<I, R>;
  run(inputs: readonly I[]): Promise<R[]>;
}

export interface ParsedPredict<I, R> {
  inputs: I[];
  /** A single input answers with one result, a list with a list. */
  single: boolean;
  format(result: R): unknown;
}

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The body's `inputs` (one or a non-empty list, each checked by `one`) and its `parameters` object. */
export function predictBody<I>(
  body: unknown,
  one: (v: unknown, where: string) => I,
  allowed: readonly string[],
): { inputs: I[]; single: boolean; parameters: Obj } {
  if (!isObj(body)) throw invalidRequest('the request body must be a JSON object {"inputs": ..., "parameters": {...}}');
  for (const key of Object.keys(body))
    if (key !== 'inputs' && key !== 'parameters')
      throw invalidRequest(`unknown field "${key}" (expected "inputs" and "parameters")`, key);
  const parameters = body.parameters ?? {};
  if (!isObj(parameters)) throw invalidRequest('parameters must be an object', 'parameters');
  for (const key of Object.keys(parameters))
    if (!allowed.includes(key))
      throw invalidRequest(
        `unknown parameter "${key}" (this task takes ${allowed.length > 0 ? allowed.join(', ') : 'none'})`,
        `parameters.${key}`,
      );
  if (Array.isArray(body.inputs)) {
    if (body.inputs.length === 0) throw invalidRequest('inputs must not be an empty list', 'inputs');
    return { inputs: body.inputs.map((v, i) => one(v, `inputs[${i}]`)), single: false, parameters };
  }
  if (body.inputs === undefined) throw invalidRequest('inputs is required', 'inputs');
  return { inputs: [one(body.inputs, 'inputs')], single: true, parameters };
}

export function textInput(v: unknown, where: string): string {
  if (typeof v !== 'string') throw invalidRequest(`${where} must be a string`, where);
  return v;
}
