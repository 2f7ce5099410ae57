import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A scripted stand-in for an interactive agent CLI (Claude Code's look and hooks), run in a
 * real tmux session by the agent. It prints a banner and a `> ` prompt; for each prompt it
 * runs the UserPromptSubmit hooks of `<cwd>/.claude/settings.json` (as Claude Code does,
 * `sh -c` with a JSON event on stdin) and shows their output, "thinks" for
 * $FAKE_CLI_THINK_MS (a `✻ Thinking… (esc to interrupt)` line redrawn in place), and answers.
 * A prompt containing PERMIT first asks "Do you want to proceed?" (❯ 1. Yes / 2. No), firing
 * the Notification hooks, and waits for the answer line. Stop hooks fire when it is done,
 * SessionStart hooks at start. `exit` ends it with status 7.
 */
const SCRIPT = String.raw`'use strict';
const { spawn } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const readline = require('node:readline');

const thinkMs = Number(process.env.FAKE_CLI_THINK_MS || 1500);
const sessionId = 'fake-' + process.pid;
const out = (s) => process.stdout.write(s);

function hooks(event) {
  try {
    const settings = JSON.parse(readFileSync(join(process.cwd(), '.claude', 'settings.json'), 'utf8'));
    return (settings.hooks?.[event] ?? []).flatMap((m) => m.hooks ?? []).map((h) => h.command).filter(Boolean);
  } catch {
    return [];
  }
}

function fire(event, extra = {}) {
  const input = JSON.stringify({ hook_event_name: event, session_id: sessionId, cwd: process.cwd(), ...extra });
  return Promise.all(
    hooks(event).map(
      (command) =>
        new Promise((resolve) => {
          const child = spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'ignore'] });
          let text = '';
          child.stdout.on('data', (d) => (text += d));
          child.on('close', () => resolve(text));
          child.on('error', () => resolve(''));
          child.stdin.end(input);
        }),
    ),
  ).then((outputs) => outputs.join('').trim());
}

const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
// Lines typed ahead (while it works) wait for their turn, as in a real CLI.
const typed = [];
let pending = null;
const nextLine = () => new Promise((resolve) => (typed.length ? resolve(typed.shift()) : (pending = resolve)));
rl.on('line', (line) => {
  const resolve = pending;
  pending = null;
  if (resolve) resolve(line);
  else typed.push(line);
});

function think(ms) {
  return new Promise((resolve) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const s = ((Date.now() - started) / 1000).toFixed(1);
      out('\r\x1b[2K✻ Thinking… (' + s + 's · esc to interrupt)');
      if (Date.now() - started >= ms) {
        clearInterval(timer);
        out('\r\x1b[2K');
        resolve();
      }
    }, 100);
  });
}

async function main() {
  await fire('SessionStart', { source: 'startup' });
  out('Fake Agent CLI (a stand-in for Claude Code)\n');
  for (;;) {
    rl.setPrompt('> ');
    out('\n');
    rl.prompt();
    const prompt = (await nextLine()).trim();
    if (prompt === 'exit') {
      out('bye\n');
      process.exit(7);
    }
    if (!prompt) continue;
    const context = await fire('UserPromptSubmit', { prompt });
    if (context) {
      out(context.split('\n').map((l) => '  ⎿  ' + l).join('\n') + '\n');
    }
    if (prompt.includes('PERMIT')) {
      await think(Math.round(thinkMs / 2));
      out('Bash command: touch permitted.txt\nDo you want to proceed?\n❯ 1. Yes\n  2. No\n');
      void fire('Notification', { message: 'Claude needs your permission to use Bash' });
      rl.setPrompt('');
      rl.prompt();
      const answer = (await nextLine()).trim();
      out('\x1b[5A\x1b[J');
      out(answer === '1' ? '● Permission granted\n' : '● Permission denied\n');
    }
    await think(thinkMs);
    out('● Done: ' + prompt + '\n');
    await fire('Stop', { stop_hook_active: false });
  }
}

main().catch((error) => {
  process.stderr.write(String(error) + '\n');
  process.exit(1);
});
`;

/** Writes the stand-in to `dir/fake-agent-cli.js` and returns its path (run it with `node PATH`). */
export async function installFakeInteractiveCli(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'fake-agent-cli.js');
  await writeFile(path, SCRIPT);
  await chmod(path, 0o755);
  return path;
}
