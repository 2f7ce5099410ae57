import { createReadStream, watch } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import type { Command } from 'commander';
import { prettyFactory } from 'pino-pretty';

import { HUB_SERVICES } from '@waggle/local-infra';

import { CliError } from '../api-client';
import type { CliConfig } from '../cli.config';
import { out } from '../output';

/** Where `waggle up` writes each process's output (see up.command.ts): the hub's services share one file. */
const FILES = { hub: 'hub.log', 'node-agent': 'node-agent.log' } as const;
const SOURCES = [...HUB_SERVICES, 'node-agent'] as const;

interface LogsFlags {
  follow?: boolean;
  lines: number;
  json?: boolean;
}

/** A line of a log file as a person reads it: pino's JSON made pretty (coloured on a terminal), other text as it is. */
function formatter(json: boolean): (line: string) => string | undefined {
  if (json) {
    return (line) => line;
  }
  const pretty = prettyFactory({
    // hasColors() is false when piped, and honours NO_COLOR and FORCE_COLOR.
    colorize: !!process.stdout.isTTY && process.stdout.hasColors(),
    translateTime: 'SYS:HH:MM:ss.l',
    // The service names the line; pino's `name` can be a machine's name bound to a child logger.
    ignore: 'pid,hostname,service,name',
    messageFormat: '{service}: {msg}',
  });
  return (line) => (line.startsWith('{') ? pretty(line).replace(/\n$/, '') : line);
}

/** Whether a line belongs to `service` (pino's `service` field); lines that are not JSON belong to whoever printed them, so only to an unfiltered view. */
function belongs(line: string, service: string | undefined): boolean {
  if (!service || service === 'node-agent') {
    return true;
  }
  try {
    return (JSON.parse(line) as { service?: string }).service === service;
  } catch {
    return false;
  }
}

/** The last `count` lines of a file, read from its end (a log can be large). */
async function tail(file: string, count: number): Promise<{ lines: string[]; size: number }> {
  const { size } = await stat(file);
  const handle = await open(file, 'r');
  try {
    let start = size;
    let text = '';
    while (start > 0 && text.split('\n').length <= count + 1) {
      const length = Math.min(64 * 1024, start);
      start -= length;
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, start);
      text = buffer.toString('utf8') + text;
    }
    const lines = text.split('\n').filter((l) => l !== '');
    return { lines: lines.slice(-count), size };
  } finally {
    await handle.close();
  }
}

/** Prints what is appended to `file` from `from` on, line by line, until Ctrl-C. */
async function follow(file: string, from: number, emit: (line: string) => void): Promise<void> {
  let offset = from;
  let partial = '';
  let reading = Promise.resolve();
  const readMore = () =>
    (reading = reading.then(async () => {
      const { size } = await stat(file);
      if (size < offset) {
        offset = 0; // rotated: start at the top of the new file
      }
      if (size === offset) {
        return;
      }
      const stream = createReadStream(file, { start: offset, end: size - 1, encoding: 'utf8' });
      offset = size;
      for await (const chunk of stream) {
        const text = partial + (chunk as string);
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        lines.filter((l) => l !== '').forEach(emit);
      }
    }));
  const watcher = watch(file, () => void readMore().catch(() => undefined));
  await new Promise<void>((done) =>
    process.once('SIGINT', () => {
      watcher.close();
      done();
    }),
  );
}

/** `waggle logs [SERVICE] [-f]`: what the hub's services and the local agent wrote, from the files `waggle up` keeps. */
export function registerLogs(program: Command, config: CliConfig) {
  program
    .command('logs [service]')
    .description(`the logs \`waggle up\` keeps: one of ${SOURCES.join(', ')}, or all of the hub`)
    .option('-f, --follow', 'keep printing what is written')
    .option('-n, --lines <n>', 'how many of the last lines (default 200)', (v) => Number(v), 200)
    .option('--json', 'the lines as written (JSON), not made pretty')
    .action(async (service: string | undefined, flags: LogsFlags) => {
      if (service && !(SOURCES as readonly string[]).includes(service)) {
        throw new CliError(`unknown service "${service}": one of ${SOURCES.join(', ')}`);
      }
      const file = resolve(join(config.WAGGLE_HOME, 'logs', FILES[service === 'node-agent' ? 'node-agent' : 'hub']));
      const format = formatter(!!flags.json);
      const emit = (line: string) => {
        if (belongs(line, service)) {
          const shown = format(line);
          if (shown !== undefined) {
            out.line(shown);
          }
        }
      };
      let last: { lines: string[]; size: number };
      try {
        // Filtered by service, the last n lines of that service: read enough of the file to find them.
        last = await tail(file, service && service !== 'node-agent' ? flags.lines * 10 : flags.lines);
      } catch {
        throw new CliError(
          `no log at ${file}: \`waggle up\` writes it (with --verbose it writes to the terminal instead)`,
        );
      }
      const shown = last.lines.filter((l) => belongs(l, service)).slice(-flags.lines);
      shown.forEach(emit);
      if (flags.follow) {
        await follow(file, last.size, emit);
      }
    });
}
