import type { JsonSchema } from '../../src/shared/config-schema.js';

/** Every leaf of the config schema as a dotted path, walked independently of the form's own code. */
export function schemaLeaves(schema: JsonSchema, path: string[] = []): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([k, sub]) => {
    if (path.length === 0 && k === '$schema') return [];
    return sub.type === 'object' && sub.properties ? schemaLeaves(sub, [...path, k]) : [[...path, k].join('.')];
  });
}
