import { createReadStream, createWriteStream } from 'node:fs';
import { LineTooLongError, textLines } from '../util/text-lines.js';

/**
 * The loop every `predict` shares: one JSON object per input line (blank lines skipped), one JSON
 * line out per input, in order, to a file or stdout. A leading UTF-8 byte-order mark is skipped, as
 * training's reader skips it. A line that is not JSON is an error naming file and line; `where`
 * ("file:line") goes to the per-row function for its own messages.
 */
export async function predictJsonl(
  input: string,
  output: string | undefined,
  predict: (row: unknown, where: string) => Promise<unknown>,
): Promise<void> {
  const out = output ? createWriteStream(output) : process.stdout;
  let lineNo = 0;
  try {
    for await (const line of textLines(createReadStream(input))) {
      lineNo++;
      if (line.trim() === '') continue;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch (err) {
        throw new Error(`${input}:${lineNo}: not valid JSON (${(err as Error).message})`);
      }
      out.write(`${JSON.stringify(await predict(row, `${input}:${lineNo}`))}\n`);
    }
  } catch (err) {
    if (err instanceof LineTooLongError) throw new Error(`${input}:${err.line}: ${err.message}`);
    throw err;
  }
  if (out !== process.stdout) await new Promise<void>((done) => (out as NodeJS.WritableStream).end(() => done()));
}
