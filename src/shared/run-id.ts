/**
 * Run directory naming, the contract in DESIGN.md ("run-id = <config name>-<YYYYMMDD-HHMMSS>",
 * local time): the engine names the runs it starts from the CLI with runId(), the extension names
 * the runs it starts with uniqueRunId() and finds a config's runs with isRunOf()/latestRunOf().
 * One implementation for both sides, so they cannot drift apart. No Node or DOM types (the
 * webview bundle may import src/shared): paths are split on both separators by hand.
 */

/** `bert.finetune.yaml` -> `bert`. */
export function configName(configPath: string): string {
  const base = configPath.split(/[\\/]/).pop() ?? configPath;
  return base.replace(/\.finetune\.(ya?ml|json)$/i, '').replace(/\.(ya?ml|json)$/i, '');
}

/** `<config name>-<YYYYMMDD-HHMMSS>` in local time, as the contract names runs. */
export function runId(configPath: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `${configName(configPath)}-${stamp}`;
}

/**
 * A run id that is not taken yet: two starts of the same config within one second get `-2`, `-3`…
 * rather than writing into each other's folder. Candidates are asked in order and the first not
 * taken wins, so `taken` may claim the name itself (an exclusive mkdir that reports "taken" when
 * it fails with EEXIST): check and claim in one step, which two processes cannot both win.
 */
export function uniqueRunId(configPath: string, taken: (id: string) => boolean, now = new Date()): string {
  const base = runId(configPath, now);
  if (!taken(base)) return base;
  for (let i = 2; ; i++) if (!taken(`${base}-${i}`)) return `${base}-${i}`;
}

/** The start time encoded in a run id (local time), for sorting runs that have no status.json. */
export function runIdTime(id: string): number | undefined {
  const m = /-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?:-\d+)?$/.exec(id);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return new Date(y, mo - 1, d, h, mi, s).getTime();
}

const STAMP = /^\d{8}-\d{6}(?:-(\d+))?$/;

/**
 * Whether a run directory's name is a run id of the config named `configName`: the name, `-`, the
 * start stamp and the optional `-N` of uniqueRunId, nothing else (so `bert-large-…` is no run of
 * `bert`).
 */
export function isRunOf(configName: string, runDirName: string): boolean {
  return runDirName.startsWith(`${configName}-`) && STAMP.test(runDirName.slice(configName.length + 1));
}

/** The config's newest run among directory names: latest start time, then highest `-N`. */
export function latestRunOf(configName: string, runDirNames: readonly string[]): string | undefined {
  const suffix = (id: string) => Number(STAMP.exec(id.slice(configName.length + 1))?.[1] ?? 1);
  let latest: string | undefined;
  for (const id of runDirNames) {
    if (!isRunOf(configName, id)) continue;
    if (latest === undefined) latest = id;
    else {
      const dt = (runIdTime(id) ?? 0) - (runIdTime(latest) ?? 0);
      if (dt > 0 || (dt === 0 && suffix(id) > suffix(latest))) latest = id;
    }
  }
  return latest;
}
