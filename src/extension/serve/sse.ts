/**
 * Server-sent events as the WHATWG spec frames them, reduced to what an OpenAI stream uses: events
 * end at a blank line, each `data:` line adds to the event's data (lines joined by "\n", one
 * space after the colon dropped), comments (`:`) and other fields are skipped. Chunks from the
 * network may cut an event anywhere: what follows the last complete event is returned as `rest`,
 * to be prefixed to the next chunk. No 'vscode' import.
 */
export function sseData(buffer: string): { data: string[]; rest: string } {
  const data: string[] = [];
  const text = buffer.replace(/\r\n?/g, '\n');
  let start = 0;
  for (let end = text.indexOf('\n\n', start); end >= 0; end = text.indexOf('\n\n', start)) {
    const lines: string[] = [];
    for (const line of text.slice(start, end).split('\n')) {
      if (line === 'data') lines.push('');
      else if (line.startsWith('data:')) lines.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
    if (lines.length > 0) data.push(lines.join('\n'));
    start = end + 2;
  }
  return { data, rest: text.slice(start) };
}
