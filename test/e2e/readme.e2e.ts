import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

import { programPath } from '@waggle/local-infra';

const README = join(__dirname, '..', '..', '..', 'README.md');
const run = promisify(execFile);

/** `waggle … --help`: its output, or how it failed. */
async function helpOf(path: string[]): Promise<{ ok: boolean; text: string }> {
  try {
    const { stdout } = await run(process.execPath, [programPath('cli'), ...path, '--help'], { encoding: 'utf8' });
    return { ok: true, text: stdout };
  } catch (error) {
    const e = error as { code?: number; stderr?: string };
    return { ok: false, text: `exit ${e.code}: ${(e.stderr ?? '').trim().split('\n')[0]}` };
  }
}

/** Every `npx waggle …` line of the README's shell blocks, as written. */
function readmeCommands(): string[] {
  const text = readFileSync(README, 'utf8');
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const lines = blocks.flatMap((block) => block.replace(/\\\n\s*/g, ' ').split('\n'));
  return lines.filter((line) => /(^|\|\s*)npx waggle /.test(line)).map((line) => line.trim());
}

/**
 * The words of a command line as a shell splits them, up to a comment, a pipe into
 * something else or `--` (what follows belongs to the program a session runs).
 */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.slice(line.indexOf('npx waggle ') + 'npx waggle '.length).matchAll(/"[^"]*"|'[^']*'|\S+/g)) {
    const word = m[0];
    if (word === '#' || word === '|' || word === '--') {
      break;
    }
    out.push(word.replace(/^\[|\]$/g, ''));
  }
  return out.filter((w) => w !== '…');
}

/**
 * The README's walk-through, checked against the CLI it describes: every `npx waggle` line
 * names a command that exists, and every option it uses is one that command takes. (The
 * commands themselves run against real hubs in the other suites: up.e2e.ts runs the quick
 * start and the first task example as written.)
 */
describe('the README', () => {
  const commands = readmeCommands();

  it('has its examples', () => {
    assert.ok(commands.length > 40, `${commands.length} command lines found`);
  });

  it('uses only commands and options the CLI has', async () => {
    const wrong: string[] = [];
    const queue = [...commands];
    // A few CLIs at a time: each start loads the CLI anew.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let line = queue.shift(); line !== undefined; line = queue.shift()) {
          const argv = words(line);
          const path = argv.filter((w) => !w.startsWith('-'));
          const help = await helpOf(path);
          if (!help.ok) {
            wrong.push(`${line}\n    → ${help.text}`);
            continue;
          }
          const usage = help.text.split('\n')[0] ?? '';
          if (!usage.includes(`waggle ${path[0]}`)) {
            wrong.push(`${line}\n    → help for another command: ${usage}`);
          }
          for (const flag of argv.filter((w) => w.startsWith('-')).map((w) => w.split('=')[0]!)) {
            if (!new RegExp(`(^|[\\s,])${flag}([\\s,<[]|$)`, 'm').test(help.text)) {
              wrong.push(`${line}\n    → \`waggle ${path.slice(0, 2).join(' ')}\` has no option ${flag}`);
            }
          }
        }
      }),
    );
    assert.deepEqual(wrong, []);
  });
});
