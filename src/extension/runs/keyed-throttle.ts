/**
 * Calls `run(key)` soon after `schedule(key)`, at most once per `delayMs` for each key: a throttle,
 * not a debounce, since an engine writes its files every few milliseconds and a debounce would
 * wait until it pauses. No 'vscode' import.
 */
export class KeyedThrottle {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly delayMs: number,
    private readonly run: (key: string) => void,
  ) {}

  schedule(key: string): void {
    if (this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.run(key);
      }, this.delayMs),
    );
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
