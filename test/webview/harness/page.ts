import type { Page } from 'playwright-core';
import type { HostMessage, RunSnapshot, WebviewMessage } from '../../../src/shared/messages.js';
import type { RunEvent, RunStatus } from '../../../src/shared/run-directory.js';

/**
 * What the browser tests and the chart benchmark do to the harness page: play the host's side of
 * the protocol (src/shared/messages.ts) and look at what the panel drew.
 */
interface HarnessWindow {
  harness: {
    posted: WebviewMessage[];
    violations: { directive: string; blocked: string; sample: string }[];
    failNext: string | undefined;
    hold: Set<string>;
    release(id: number, error?: string): void;
    send(message: HostMessage): void;
  };
}

export async function send(page: Page, message: HostMessage): Promise<void> {
  // Passed as unknown: playwright's serialisable-argument type recurses too deep on JsonValue.
  const arg: unknown = message;
  await page.evaluate((m) => (window as unknown as HarnessWindow).harness.send(m as HostMessage), arg);
}

export async function posted(page: Page): Promise<WebviewMessage[]> {
  return page.evaluate(() => (window as unknown as HarnessWindow).harness.posted);
}

export async function violations(page: Page): Promise<HarnessWindow['harness']['violations']> {
  return page.evaluate(() => (window as unknown as HarnessWindow).harness.violations);
}

/** FAST (under the toolkit) probes `:focus-visible` support once with an empty <style>: CSP blocks it, by design. */
export function unexpectedViolations(list: Awaited<ReturnType<typeof violations>>) {
  return list.filter((v) => !(v.directive === 'style-src-elem' && v.blocked === 'inline' && v.sample === ''));
}

export async function failNextRequest(page: Page, error: string): Promise<void> {
  await page.evaluate((e) => {
    (window as unknown as HarnessWindow).harness.failNext = e;
  }, error);
}

/** Waits until the page has posted `ready` `count` times (once per page load). */
export async function waitForReady(page: Page, count = 1): Promise<void> {
  await page.waitForFunction(
    (n) => (window as unknown as HarnessWindow).harness.posted.filter((m) => m.type === 'ready').length >= n,
    count,
  );
}

/** The last message of a type the page posted, waiting for it to appear after `after` messages. */
export async function nextPosted<T extends WebviewMessage['type']>(
  page: Page,
  type: T,
  after: number,
): Promise<Extract<WebviewMessage, { type: T }>> {
  await page.waitForFunction(
    ([t, n]) => (window as unknown as HarnessWindow).harness.posted.slice(n as number).some((m) => m.type === t),
    [type, after] as const,
  );
  const all = await posted(page);
  return all
    .slice(after)
    .filter((m) => m.type === type)
    .pop() as Extract<WebviewMessage, { type: T }>;
}

/** Waits for a chart to have drawn `points` x values. */
export async function waitForPoints(page: Page, chart: string, points: number): Promise<void> {
  await page.waitForFunction(
    ([id, n]) => Number(document.querySelector<HTMLElement>(`[data-chart="${id}"]`)?.dataset.points) >= (n as number),
    [chart, points] as const,
  );
}

/** Waits for two animation frames: whatever the page scheduled has been drawn. */
export async function settle(page: Page): Promise<void> {
  await page.evaluate(
    () => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))),
  );
}

/** Pixels of a chart's canvas close to a colour, and a fingerprint of the whole canvas. */
export async function probeChart(
  page: Page,
  chart: string,
  rgb: [number, number, number],
): Promise<{ matching: number; fingerprint: number }> {
  return page.evaluate(
    ([id, [r, g, b]]) => {
      const canvas = document.querySelector<HTMLCanvasElement>(`[data-chart="${id}"] canvas`);
      const ctx = canvas?.getContext('2d');
      if (!canvas || !ctx) return { matching: 0, fingerprint: 0 };
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let matching = 0;
      let fingerprint = 0;
      for (let i = 0; i < data.length; i += 4) {
        const d = Math.abs((data[i] ?? 0) - r) + Math.abs((data[i + 1] ?? 0) - g) + Math.abs((data[i + 2] ?? 0) - b);
        if (d < 60 && (data[i + 3] ?? 0) > 200) matching++;
        fingerprint =
          (fingerprint * 31 + (data[i] ?? 0) + (data[i + 1] ?? 0) * 3 + (data[i + 3] ?? 0) * 7) % 2147483647;
      }
      return { matching, fingerprint };
    },
    [chart, rgb] as const,
  );
}

export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

/** A deterministic, noisy, decaying training loss: what a real run's curve looks like. */
export function stepEvents(from: number, count: number, opts: { lr?: number; scale?: number } = {}): RunEvent[] {
  const lr = opts.lr ?? 2e-5;
  const scale = opts.scale ?? 1;
  return Array.from({ length: count }, (_, k) => {
    const step = from + k;
    const noise = Math.sin(step * 12.9898) * 0.25;
    return {
      type: 'step',
      step,
      epoch: step / 250,
      loss: scale * (2 * Math.exp(-step / 300) + 0.3 + noise * Math.exp(-step / 2000)),
      lr: lr * Math.max(0, 1 - step / 100_000),
      tokensPerSec: 5000 + (step % 7) * 10,
      t: T0 + step * 200,
    };
  });
}

export function status(fields: Partial<RunStatus> = {}): RunStatus {
  return {
    state: 'running',
    pid: 4242,
    startedAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    step: 0,
    totalSteps: 2000,
    epoch: 0,
    ...fields,
  };
}

export function run(id: string, fields: Partial<RunSnapshot> = {}): RunSnapshot {
  return { id, dir: `/work/space/.finetune/runs/${id}`, events: [], ...fields };
}

/** Replies to requests of `type` wait until `releaseReply` (the host answers chatSend when its reply ends). */
export async function holdReplies(page: Page, type: WebviewMessage['type']): Promise<void> {
  await page.evaluate((t) => (window as unknown as HarnessWindow).harness.hold.add(t), type);
}

export async function releaseReply(page: Page, id: number, error?: string): Promise<void> {
  await page.evaluate(([i, e]) => (window as unknown as HarnessWindow).harness.release(i as number, e), [
    id,
    error,
  ] as const);
}
