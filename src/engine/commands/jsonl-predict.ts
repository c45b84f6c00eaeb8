import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * The loop every `predict` shares: one JSON object per input line (blank lines skipped), one JSON
 * line out per input, in order, to a file or stdout. A line that is not JSON is an error naming
 * file and line; `where` ("file:line") goes to the per-row function for its own messages.
 */
export async function predictJsonl(
  input: string,
  output: string | undefined,
  predict: (row: unknown, where: string) => Promise<unknown>,
): Promise<void> {
  const out = output ? createWriteStream(output) : process.stdout;
  const lines = createInterface({ input: createReadStream(input), crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  for await (const line of lines) {
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
  if (out !== process.stdout) await new Promise<void>((done) => (out as NodeJS.WritableStream).end(() => done()));
}
