/** Percentile of a sample (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  if (value === undefined) {
    throw new Error('percentile of an empty sample');
  }
  return value;
}

export interface Row {
  figure: string;
  value: number;
  baseline: number;
  unit: string;
  baselineName: string;
}

export function printRows(title: string, rows: Row[]) {
  const lines = [`\n${title}`, ''];
  const head = ['figure', 'waggle', 'baseline', 'ratio', 'baseline is'];
  const body = rows.map((r) => [
    r.figure,
    `${r.value.toFixed(2)} ${r.unit}`,
    `${r.baseline.toFixed(2)} ${r.unit}`,
    `${(r.value / r.baseline).toFixed(2)}×`,
    r.baselineName,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  lines.push(fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmt));
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * Settings of every benchmark hub. The per-credential request limit stays on (its cost is part
 * of what is measured) but far above what one admin token sends here.
 */
export const BENCH_ENV: Record<string, string> = { WAGGLE_RATE_LIMIT_PER_MINUTE: '100000000' };
