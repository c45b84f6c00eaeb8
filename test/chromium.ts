/**
 * Debian's Chromium as every browser test launches it through playwright-core (never a browser
 * download): headless, no sandbox (root in CI), and no background traffic to hosts this machine
 * cannot reach.
 */
export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
