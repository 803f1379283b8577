/** Small statistics over a handful of rounds: median and spread, never a mean of noisy runs. */

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

export interface Spread {
  median: number;
  min: number;
  max: number;
  p25: number;
  p75: number;
  n: number;
}

export function spread(values: readonly number[]): Spread {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    p25: quantile(values, 0.25),
    p75: quantile(values, 0.75),
    n: values.length,
  };
}

/** Per-round ratios ours/theirs (rounds are paired: run back to back, order alternating). */
export function pairedRatios(ours: readonly number[], theirs: readonly number[]): number[] {
  const n = Math.min(ours.length, theirs.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(ours[i]! / theirs[i]!);
  return out;
}

export function fmt(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : String(value);
}

/** "1.01x (IQR 0.99–1.02, min–max 0.97–1.05, n=8)" */
export function fmtRatio(s: Spread): string {
  return `${fmt(s.median, 3)}x (IQR ${fmt(s.p25, 3)}–${fmt(s.p75, 3)}, min–max ${fmt(s.min, 3)}–${fmt(s.max, 3)}, n=${s.n})`;
}

/** "412 ms (IQR 400–420)" */
export function fmtSpread(s: Spread, unit: string, digits = 0): string {
  return `${fmt(s.median, digits)} ${unit} (IQR ${fmt(s.p25, digits)}–${fmt(s.p75, digits)})`;
}

/** A markdown table from rows of cells. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
