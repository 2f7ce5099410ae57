import { styleText } from 'node:util';

import Table from 'cli-table3';

type Style = Parameters<typeof styleText>[0];

/** The colour of each state a person reads in a table: green went well, red did not, yellow waits. */
const STATE_STYLE: Record<string, Style> = {
  online: 'green',
  succeeded: 'green',
  done: 'green',
  in_progress: 'cyan',
  offline: 'gray',
  cancelled: 'gray',
  revoked: 'red',
  failed: 'red',
  timed_out: 'red',
  queued: 'yellow',
  assigned: 'yellow',
  running: 'cyan',
};

/**
 * A state in its colour, on a terminal only: none when piped or with NO_COLOR set (Node's
 * styleText checks the stream and the environment).
 */
export function state(text: string, stream: NodeJS.WriteStream = process.stdout): string {
  const style = STATE_STYLE[text];
  return style ? styleText(style, text, { stream }) : text;
}

/** Column heads in bold, on a terminal only. */
function bold(text: string): string {
  return styleText('bold', text, { stream: process.stdout });
}

/** The CLI's only way to write to the terminal: tables and lines for people, JSON for scripts. */
export const out = {
  line(text = '') {
    process.stdout.write(`${text}\n`);
  },
  json(value: unknown) {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  },
  table(head: string[], rows: (string | number)[][]) {
    const table = new Table({ head: head.map(bold), style: { head: [], border: [] } });
    table.push(...rows.map((r) => r.map(String)));
    process.stdout.write(`${table.toString()}\n`);
  },
  error(text: string) {
    process.stderr.write(`${text}\n`);
  },
};

/** How long until a time to come: "in 4s", "in 3m". */
export function until(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((Date.parse(iso) - now) / 1000));
  return s < 60 ? `in ${s}s` : s < 3600 ? `in ${Math.round(s / 60)}m` : `in ${Math.round(s / 3600)}h`;
}

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
