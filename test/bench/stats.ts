import type { Counts } from './meter';

/** Percentile of a sample (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  if (value === undefined) {
    throw new Error('percentile of an empty sample');
  }
  return value;
}

/** One figure of the LLM and GitHub sections (measured once). */
export interface Row {
  figure: string;
  value: number;
  baseline: number;
  unit: string;
  baselineName: string;
}

/** Repetitions of one figure. */
export interface Summary {
  samples: number[];
  median: number;
  min: number;
  max: number;
}

export function summarize(samples: number[]): Summary {
  return { samples, median: percentile(samples, 50), min: Math.min(...samples), max: Math.max(...samples) };
}

/** A figure beside its baseline, both repeated in the same run. */
export interface Figure {
  figure: string;
  unit: string;
  waggle: Summary;
  baseline?: Summary;
  baselineName: string;
}

/** Per-operation counts of one kind of operation, over its repetitions. */
export interface CountRow {
  operation: string;
  reps: Counts[];
}

export interface Section {
  title: string;
  figures: Figure[];
  counts: CountRow[];
  notes: string[];
}

export function fromRow(row: Row): Figure {
  return {
    figure: row.figure,
    unit: row.unit,
    waggle: summarize([row.value]),
    baseline: summarize([row.baseline]),
    baselineName: row.baselineName,
  };
}

/** Three significant digits, at most two decimals. */
export function num(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100 || value === 0) {
    return Math.round(value).toLocaleString('en');
  }
  return value.toFixed(abs >= 10 ? 1 : 2);
}

function span(s: Summary, unit: string): string {
  const u = unit ? ` ${unit}` : '';
  return s.samples.length > 1 ? `${num(s.median)}${u} (${num(s.min)}–${num(s.max)})` : `${num(s.median)}${u}`;
}

function table(head: string[], body: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmt)];
}

const median = (values: number[]) => percentile(values, 50);
/** Operations are counted, but an idle window's "operations" are its seconds. */
const ops = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en') : `${num(v)} s`);

function countCell(reps: Counts[], pick: (c: Counts) => number | undefined): string {
  const values = reps.map(pick).filter((v): v is number => v !== undefined);
  if (!values.length) {
    return '—';
  }
  return values.length > 1
    ? `${num(median(values))} (${num(Math.min(...values))}–${num(Math.max(...values))})`
    : num(values[0] ?? 0);
}

export function printSection(section: Section): void {
  const lines = [`\n${section.title}`, ''];
  lines.push(
    ...table(
      ['figure', 'waggle (median, min–max)', 'baseline (median, min–max)', 'ratio', 'baseline is'],
      section.figures.map((f) => [
        f.figure,
        span(f.waggle, f.unit),
        f.baseline ? span(f.baseline, f.unit) : '—',
        f.baseline && f.baseline.median !== 0 ? `${(f.waggle.median / f.baseline.median).toFixed(2)}×` : '—',
        f.baselineName,
      ]),
    ),
  );
  if (section.counts.length) {
    lines.push('', 'per operation (median, min–max over repetitions; CPU ms by process, medians)', '');
    lines.push(
      ...table(
        ['operation', 'reps×ops', 'commits', 'rows', 'NATS in', 'NATS out', 'CPU ms', 'CPU ms by process'],
        section.counts.map((c) => {
          const names = [...new Set(c.reps.flatMap((r) => Object.keys(r.cpuMs)))];
          const byProcess = names
            .map((n) => ({ n, v: median(c.reps.map((r) => r.cpuMs[n] ?? 0)) }))
            .filter((x) => x.v >= 0.005)
            .sort((a, b) => b.v - a.v)
            .map((x) => `${x.n} ${num(x.v)}`)
            .join(', ');
          return [
            c.operation,
            `${c.reps.length}×${ops(median(c.reps.map((r) => r.ops)))}`,
            countCell(c.reps, (r) => r.commits),
            countCell(c.reps, (r) => r.rows),
            countCell(c.reps, (r) => r.natsIn),
            countCell(c.reps, (r) => r.natsOut),
            countCell(c.reps, (r) => Object.values(r.cpuMs).reduce((a, b) => a + b, 0)),
            byProcess,
          ];
        }),
      ),
    );
  }
  if (section.notes.length) {
    lines.push('', ...section.notes.map((n) => `- ${n}`));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * Settings of every benchmark hub. The per-credential request limit stays on (its cost is part
 * of what is measured) but far above what one admin token sends here.
 */
export const BENCH_ENV: Record<string, string> = { WAGGLE_RATE_LIMIT_PER_MINUTE: '100000000' };
