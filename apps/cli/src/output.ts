import Table from 'cli-table3';

/** The CLI's only way to write to the terminal: tables and lines for people, JSON for scripts. */
export const out = {
  line(text = '') {
    process.stdout.write(`${text}\n`);
  },
  json(value: unknown) {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  },
  table(head: string[], rows: (string | number)[][]) {
    const table = new Table({ head, style: { head: [], border: [] } });
    table.push(...rows.map((r) => r.map(String)));
    process.stdout.write(`${table.toString()}\n`);
  },
  error(text: string) {
    process.stderr.write(`${text}\n`);
  },
};

export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) {
    return 'never';
  }
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) {
    return `${s}s ago`;
  }
  if (s < 3600) {
    return `${Math.round(s / 60)}m ago`;
  }
  if (s < 86400) {
    return `${Math.round(s / 3600)}h ago`;
  }
  return `${Math.round(s / 86400)}d ago`;
}
