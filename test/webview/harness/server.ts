import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { buildPanelHtml, makeNonce } from '../../../src/extension/panel/csp.js';

/**
 * Serves the run panel page on 127.0.0.1 exactly as the extension builds it (buildPanelHtml: the
 * same markup and Content Security Policy, with this server's origin as the webview's cspSource),
 * plus the harness's fake host script (with the page's nonce, before the panel's script) and a
 * theme style sheet. Only dist/, media/ and the harness folder are served.
 */
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ttf': 'font/ttf',
};
const SERVED = ['dist', 'media', join('test', 'webview', 'harness')];

export interface Harness {
  origin: string;
  close(): Promise<void>;
}

export async function startHarness(root: string): Promise<Harness> {
  let origin = '';
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', origin);
      if (url.pathname === '/' || url.pathname === '/index.html') {
        const nonce = makeNonce();
        const html = buildPanelHtml({
          cspSource: origin,
          nonce,
          scriptUri: `${origin}/dist/webview.js`,
          styleUris: [
            `${origin}/dist/webview.css`,
            `${origin}/media/panel.css`,
            `${origin}/test/webview/harness/theme.css`,
          ],
          title: 'Fine-tune: harness',
        });
        const fakeHost = `<script nonce="${nonce}" src="${origin}/test/webview/harness/fake-host.js"></script>\n  <script nonce=`;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(html.replace('<script nonce=', fakeHost));
        return;
      }
      const rel = normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
      if (!SERVED.some((dir) => rel.startsWith(dir + sep)) || rel.includes('..')) {
        res.writeHead(404).end();
        return;
      }
      try {
        const body = await readFile(join(root, rel));
        res.writeHead(200, {
          'content-type': TYPES[extname(rel)] ?? 'application/octet-stream',
          'cache-control': 'no-store',
        });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
