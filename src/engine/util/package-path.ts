import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * The folder of an installed npm package (where its package.json is). `require` works under tsx
 * and in CommonJS bundles; an ESM bundle only has esbuild's throwing shim, so fall back to
 * resolving from the main script and the working directory (import.meta cannot be written in a
 * file that may compile as CommonJS). Undefined when the package is not installed.
 */
export function packageDir(name: string): string | undefined {
  const file = `${name}/package.json`;
  const resolvers: (() => string)[] = [
    () => require.resolve(file),
    () => createRequire(path.resolve(process.argv[1] ?? 'noop.js')).resolve(file),
    () => createRequire(path.join(process.cwd(), 'noop.js')).resolve(file),
  ];
  for (const resolve of resolvers) {
    try {
      return path.dirname(resolve());
    } catch {
      // try the next way
    }
  }
  return undefined;
}
