import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { GPT2_FIXTURE_SENTENCES, writeTinyGpt2 } from '../../fixtures/tiny-gpt2.js';

/**
 * `finetune serve` as a process: it prints its URL (and a JSON line with the port, for --port 0),
 * and on SIGTERM finishes the generation in flight, streamed to its end, then exits 0.
 */
const ROOT = join(__dirname, '..', '..', '..');

test('serve CLI: SIGTERM drains the streaming request in flight and exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-cli-'));
  writeTinyGpt2(dir, GPT2_FIXTURE_SENTENCES, { seed: 3 });
  const tsx = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  const child = spawn(
    process.execPath,
    ['--import', tsx, join(ROOT, 'src', 'engine', 'cli.ts'), 'serve', '--model', dir, '--port', '0', '--threads', '1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    let listening: { url: string; port: number } | undefined;
    const lines: string[] = [];
    for await (const line of createInterface({ input: child.stdout })) {
      lines.push(line);
      if (line.startsWith('{')) {
        listening = JSON.parse(line) as { url: string; port: number };
        break;
      }
    }
    assert.ok(listening, `no listening line: ${lines.join('\n')}\n${stderr}`);
    assert.match(lines[0] as string, /^listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.equal(listening.url, `http://127.0.0.1:${listening.port}`);
    const res = await fetch(`${listening.url}/v1/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: 'the cat', max_tokens: 40, temperature: 0, stream: true }),
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let body = decoder.decode((await reader.read()).value);
    child.kill('SIGTERM');
    for (let r = await reader.read(); !r.done; r = await reader.read()) body += decoder.decode(r.value);
    assert.ok(body.endsWith('data: [DONE]\n\n'), 'the stream in flight ran to its end');
    const chunks = body
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)) as { choices: { finish_reason: string | null }[] });
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'length');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /SIGTERM: draining/);
  } finally {
    child.kill('SIGKILL');
  }
});
