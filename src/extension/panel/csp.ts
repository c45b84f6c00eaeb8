/**
 * The run panel's HTML and Content Security Policy. No 'vscode' import, so a unit test can check
 * the policy and the browser test can serve the very page the extension shows.
 *
 * The policy allows nothing by default; scripts only with this page's nonce (no inline handlers,
 * no eval), styles, fonts and images only from the extension's own files (`cspSource`) and images
 * also as data: URLs (chart exports). The toolkit's and uPlot's run-time styling goes through the
 * CSSOM (constructed style sheets, `element.style`), which `style-src` does not restrict, so no
 * 'unsafe-inline' is needed.
 */
export interface PanelPage {
  /** `webview.cspSource`: the origin the webview serves extension files from. */
  cspSource: string;
  /** A fresh random nonce per page load (makeNonce). */
  nonce: string;
  /** `asWebviewUri` of dist/webview.js. */
  scriptUri: string;
  /** `asWebviewUri` of the style sheets, in order (dist/webview.css, media/panel.css). */
  styleUris: string[];
  title: string;
}

export function buildCsp(cspSource: string, nonce: string): string {
  if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(nonce)) throw new Error('the nonce must be at least 16 base64 characters');
  // One or more sources separated by spaces: code-server's `cspSource` is
  // "'self' https://*.vscode-cdn.net". Only the 'self' keyword may be quoted ('unsafe-inline' and
  // the like never), and nothing may end the directive (;) or break out of the attribute (").
  const sources = cspSource.trim().split(/\s+/);
  if (!cspSource.trim() || !sources.every((s) => s === "'self'" || /^[^;'",\s]+$/.test(s)))
    throw new Error(`invalid CSP source: ${cspSource}`);
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

/** 128 random bits, base64: unguessable by anything injected into the page. */
export function makeNonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

export function buildPanelHtml(page: PanelPage): string {
  const csp = buildCsp(page.cspSource, page.nonce);
  const styles = page.styleUris.map((uri) => `  <link rel="stylesheet" href="${escapeHtml(uri)}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles}
  <title>${escapeHtml(page.title)}</title>
</head>
<body>
  <div id="app" aria-live="polite"><p class="loading">Loading…</p></div>
  <script nonce="${escapeHtml(page.nonce)}" src="${escapeHtml(page.scriptUri)}"></script>
</body>
</html>
`;
}
