import type { CorpusRequest } from '../../../src/engine/corpus/build.js';
import { columnsFor } from '../../../src/engine/data/records.js';
import { CONFIG_DEFAULTS } from '../../../src/shared/config-defaults.js';

/** A corpus build as a masked-LM run in blocks asks for it, with two threads; `over` changes any part. */
export function request(
  input: string,
  tokenizerDir: string,
  cacheRoot: string,
  over: Partial<CorpusRequest> = {},
): CorpusRequest {
  return {
    input,
    configKey: 'data.train',
    tokenizerDir,
    encoding: { maxLength: null, blankAsEmpty: false },
    clean: CONFIG_DEFAULTS.data.clean,
    columns: columnsFor({}),
    onBadRows: 'error',
    cacheRoot,
    workers: 2,
    ...over,
  };
}
