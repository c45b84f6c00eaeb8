import { CONFIG_SCHEMA, type JsonSchema } from './config-schema.js';
import { checkValue, diag } from './config-schema-check.js';
import type { DistributionName } from './config-sweep.js';
import { type ConfigNode, closest, type Diagnostic, entryAt, nodeAt, type ParsedConfig } from './config-tree.js';

/**
 * Rules of the `sweep:` block that the schema can't say: each parameter's key names a real config
 * value, its distribution has the fields it needs and fits the key's type, its values are values
 * the key accepts, the strategy and the distributions agree, and the objective is computed.
 */

/** Keys a trial must not change: the sweep itself, where runs go (trials live in the sweep's folder), and where it runs. */
const NOT_SEARCHABLE = new Set(['sweep', '$schema', 'output_dir', 'launcher']);

const NUMERIC: ReadonlySet<DistributionName> = new Set(['uniform', 'loguniform', 'int']);

/** The schema of a dotted config path, or why there is none. */
export function schemaOfKey(key: string): { schema: JsonSchema } | { error: string } {
  const parts = key.split('.');
  if (NOT_SEARCHABLE.has(parts[0] as string)) return { error: `${parts[0]} can't be searched by a sweep.` };
  let schema: JsonSchema = CONFIG_SCHEMA;
  let at = '';
  for (const part of parts) {
    const props = schema.properties ?? {};
    const next = props[part];
    if (!next) {
      const guess = closest(part, Object.keys(props));
      const where = at ? `${at} has no key '${part}'` : `there is no config key '${part}'`;
      return { error: `'${key}' names no config key: ${where}${guess ? `; did you mean '${guess}'?` : '.'}` };
    }
    schema = next;
    at = at ? `${at}.${part}` : part;
  }
  if (schema.type === 'object' || schema.type === 'array')
    return { error: `'${key}' is a ${schema.type === 'object' ? 'section' : 'list'}: a sweep sets single values.` };
  return { schema };
}

/** The schema a number must satisfy for this key, if the key takes numbers. */
function numericBranch(schema: JsonSchema): JsonSchema | undefined {
  const branches = schema.anyOf ?? [schema];
  return branches.find((b) => b.type === 'integer' || b.type === 'number');
}

export function checkSweep(parsed: ParsedConfig, hasValidation: boolean, metricNames: readonly string[]): Diagnostic[] {
  const root = parsed.root;
  const out: Diagnostic[] = [];
  const sweep = nodeAt(root, ['sweep']);
  if (sweep?.kind !== 'object') return out;
  const error = (msg: string, code: string, path: (string | number)[], node: ConfigNode) =>
    out.push(diag(parsed, 'error', msg, code, path, node.span));

  const sweepEntry = entryAt(root, ['sweep']);
  if (!hasValidation && sweepEntry)
    out.push(
      diag(
        parsed,
        'error',
        'A sweep judges trials by their evaluations: set data.validation or data.validation_split.',
        'no-validation',
        ['sweep'],
        sweepEntry.keySpan,
      ),
    );
  const metricNode = nodeAt(root, ['sweep', 'metric']);
  if (
    metricNode?.kind === 'scalar' &&
    typeof metricNode.value === 'string' &&
    metricNode.value !== 'loss' &&
    !metricNames.includes(metricNode.value)
  ) {
    const msg = `The sweep's objective '${metricNode.value}' is not computed: add it to eval.metrics or use loss.`;
    error(msg, 'sweep-metric', ['sweep', 'metric'], metricNode);
  }

  const strategyNode = nodeAt(root, ['sweep', 'strategy']);
  const strategy = strategyNode?.kind === 'scalar' ? strategyNode.value : 'tpe';
  const params = nodeAt(root, ['sweep', 'parameters']);
  if (params?.kind !== 'array') return out;
  const seen = new Set<string>();
  params.items.forEach((param, i) => {
    if (param.kind !== 'object') return;
    const at = (k: string) => nodeAt(param, [k]);
    const path = (...rest: (string | number)[]) => ['sweep', 'parameters', i, ...rest];
    const keyNode = at('key');
    const typeNode = at('type');
    const type = typeNode?.kind === 'scalar' ? (typeNode.value as DistributionName) : undefined;
    if (typeNode && type === 'grid' && strategy !== 'grid')
      error(
        `A grid parameter needs strategy: grid; with ${String(strategy)}, use type: choice.`,
        'sweep-type',
        path('type'),
        typeNode,
      );
    if (typeNode && strategy === 'grid' && type !== 'grid')
      error(
        `Strategy grid tries every combination of grid parameters: make this a grid with its values.`,
        'sweep-type',
        path('type'),
        typeNode,
      );
    if (keyNode?.kind !== 'scalar' || typeof keyNode.value !== 'string') return;
    const key = keyNode.value;
    if (seen.has(key)) error(`'${key}' is searched twice.`, 'sweep-duplicate', path('key'), keyNode);
    seen.add(key);
    const found = schemaOfKey(key);
    if ('error' in found) {
      error(found.error, 'sweep-key', path('key'), keyNode);
      return;
    }
    if (!type) return;
    const against = (node: ConfigNode, schema: JsonSchema, where: (string | number)[]) => {
      for (const d of checkValue(parsed, node, schema, where, CONFIG_SCHEMA))
        out.push({ ...d, message: `For ${key}: ${d.message}` });
    };
    const needs = (field: string) => {
      if (at(field) === undefined)
        error(`A ${type} parameter needs '${field}'.`, 'sweep-field', path('type'), typeNode as ConfigNode);
    };
    if (type === 'choice' || type === 'grid') {
      needs('values');
      const values = at('values');
      if (values?.kind === 'array')
        values.items.forEach((v, j) => {
          against(v, found.schema, path('values', j));
        });
      return;
    }
    if (!NUMERIC.has(type)) return;
    needs('low');
    needs('high');
    const branch = numericBranch(found.schema);
    if (!branch) {
      error(`${key} is not a number: search it with type: choice.`, 'sweep-type', path('type'), typeNode as ConfigNode);
      return;
    }
    if (branch.type === 'integer' && type !== 'int') {
      error(`${key} is an integer: search it with type: int.`, 'sweep-type', path('type'), typeNode as ConfigNode);
      return;
    }
    const low = at('low');
    const high = at('high');
    const step = at('step');
    if (step && type !== 'int') error(`'step' is only used by type: int.`, 'sweep-field', path('step'), step);
    for (const [name, node] of [
      ['low', low],
      ['high', high],
    ] as const) {
      if (node?.kind !== 'scalar' || typeof node.value !== 'number') continue;
      if (type === 'int' && !Number.isInteger(node.value))
        error(`An int parameter's ${name} must be an integer, got ${node.value}.`, 'sweep-field', path(name), node);
      else if (type === 'loguniform' && node.value <= 0)
        error(
          `A loguniform parameter's ${name} must be greater than 0, got ${node.value}.`,
          'sweep-field',
          path(name),
          node,
        );
      else against(node, branch, path(name));
    }
    if (
      low?.kind === 'scalar' &&
      high?.kind === 'scalar' &&
      typeof low.value === 'number' &&
      typeof high.value === 'number' &&
      low.value > high.value
    )
      error(`low (${low.value}) is above high (${high.value}).`, 'sweep-field', path('high'), high);
  });
  return out;
}
