import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCsp, buildPanelHtml, escapeHtml, makeNonce } from '../../src/extension/panel/csp.js';

const SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name as string, values];
    }),
  );
}

test('the policy allows nothing by default and never unsafe-inline or unsafe-eval', () => {
  const nonce = makeNonce();
  const csp = buildCsp(SOURCE, nonce);
  assert.doesNotMatch(csp, /unsafe-/);
  assert.doesNotMatch(csp, /\*/);
  const d = directives(csp);
  assert.deepEqual(d.get('default-src'), ["'none'"]);
  assert.deepEqual(d.get('script-src'), [`'nonce-${nonce}'`]);
  assert.deepEqual(d.get('style-src'), [SOURCE]);
  assert.deepEqual(d.get('font-src'), [SOURCE]);
  assert.deepEqual(d.get('img-src'), [SOURCE, 'data:']);
  assert.equal(d.size, 5);
});

test('nonces are 128 random bits, different every time', () => {
  const nonces = new Set(Array.from({ length: 100 }, makeNonce));
  assert.equal(nonces.size, 100);
  for (const n of nonces) assert.equal(Buffer.from(n, 'base64').length, 16);
});

test('a weak nonce or a source that could inject a directive is refused', () => {
  assert.throws(() => buildCsp(SOURCE, 'abc'));
  assert.throws(() => buildCsp(`${SOURCE}; script-src *`, makeNonce()));
  assert.throws(() => buildCsp("'unsafe-inline'", makeNonce()));
  assert.throws(() => buildCsp(`'self' 'unsafe-eval'`, makeNonce()));
  assert.throws(() => buildCsp('', makeNonce()));
  // code-server's webview.cspSource: a keyword and a host source.
  const codeServer = buildCsp("'self' https://*.vscode-cdn.net", makeNonce());
  assert.match(codeServer, /style-src 'self' https:\/\/\*\.vscode-cdn\.net;/);
});

test('the page carries the policy, loads only its own files and has no inline script or handler', () => {
  const nonce = makeNonce();
  const html = buildPanelHtml({
    cspSource: SOURCE,
    nonce,
    scriptUri: `${SOURCE}/ext/dist/webview.js`,
    styleUris: [`${SOURCE}/ext/dist/webview.css`, `${SOURCE}/ext/media/panel.css`],
    title: 'Fine-tune: <demo>',
  });
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
  assert.ok(meta, 'CSP meta tag');
  assert.equal(meta[1], escapeHtml(buildCsp(SOURCE, nonce)));
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  assert.match(scripts[0]?.[1] ?? '', new RegExp(`nonce="${nonce.replace(/[+/]/g, '\\$&')}"`));
  assert.equal(scripts[0]?.[2], '', 'no inline script body');
  assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers');
  assert.doesNotMatch(html, /style=/, 'no style attributes');
  for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) assert.ok(m[1]?.startsWith(SOURCE), `${m[1]} is not local`);
  assert.ok(html.includes('Fine-tune: &lt;demo&gt;'), 'title escaped');
});
