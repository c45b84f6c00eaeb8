import type { RunState } from '../../shared/run-directory.js';

/** What the Runs view's run and sweep items share: their state icons, and escaping for tooltips. */
export const STATE_ICONS: Readonly<Record<RunState, [icon: string, color?: string]>> = {
  running: ['sync~spin'],
  queued: ['clock'],
  completed: ['check', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  stopped: ['debug-stop'],
  cancelled: ['circle-slash'],
};

export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
