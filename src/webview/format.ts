/** Number and duration formatting for charts, tables and the header. No DOM: tested in Node. */

/** 3 significant digits, exponent notation for very small or large values (learning rates). */
export function formatNumber(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(2).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(4)));
}

/** An axis label with as many digits as the tick spacing needs, so neighbouring ticks never read the same. */
export function formatTick(v: number, increment: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  const step = Math.floor(Math.log10(Math.abs(increment) || a));
  if (a < 1e-3 || a >= 1e6) {
    const digits = Math.min(10, Math.max(0, Math.floor(Math.log10(a)) - step));
    return v.toExponential(digits);
  }
  return v.toFixed(Math.min(10, Math.max(0, -step)));
}

/** `95`, `4m 05s`, `2h 03m`: short and fixed-width enough for a header. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m`;
}
