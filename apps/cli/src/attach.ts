import type { ScreenView } from '@waggle/contracts';

import type { ApiClient } from './api-client';
import { CliError } from './api-client';
import { toSends } from './terminal-keys';

/** Ctrl-]: detaches (as telnet does); never sent to the session. */
const DETACH = '\x1d';

/**
 * `waggle sessions attach MACHINE:SESSION`: the session's live terminal in this one. The
 * screen as it is now, then its output as the program writes it (over /ws, raw); what is
 * typed goes to the session through `POST …/send` (typing is an operator's), unless
 * `readOnly` or the credential is a viewer's; should a send still be refused (403: the role
 * changed), the attach goes on read-only.
 * Ctrl-] detaches; a session that cannot be followed ends it with an error.
 */
export async function attach(
  api: ApiClient,
  machine: string,
  session: string,
  options: { readOnly: boolean },
): Promise<void> {
  const path = `/api/sessions/${encodeURIComponent(machine)}/${encodeURIComponent(session)}`;
  const stdin = process.stdin;
  const stdout = process.stdout;
  const note = (line: string) => process.stderr.write(`\r\n[waggle] ${line}\r\n`);
  // Viewers (and machines) cannot type: read-only from the start rather than at the first refusal.
  const who = await api.call<{ kind: string; role?: string }>('GET', '/api/auth/whoami');
  let readOnly = options.readOnly || who.kind === 'machine' || who.role === 'viewer';
  let sending = Promise.resolve();
  let shown = false;
  const early: string[] = [];

  await new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (error?: Error) => {
      if (done) {
        return;
      }
      done = true;
      socket.close();
      stdin.off('data', onInput);
      if (stdin.isTTY) {
        stdin.setRawMode(false);
      }
      stdin.pause();
      if (error) {
        reject(error);
      } else {
        resolve();
      }
    };
    const onInput = (data: Buffer | string) => {
      const input = typeof data === 'string' ? data : data.toString('utf8');
      const at = input.indexOf(DETACH);
      const typed = at >= 0 ? input.slice(0, at) : input;
      if (typed && !readOnly) {
        for (const piece of toSends(typed)) {
          sending = sending.then(async () => {
            if (readOnly) {
              return;
            }
            try {
              await api.call('POST', `${path}/send`, piece);
            } catch (error) {
              if (error instanceof CliError && error.message.startsWith('403')) {
                readOnly = true;
                note('read-only: typing into a session needs the operator role (Ctrl-] detaches)');
              } else {
                note(`not sent: ${(error as Error).message}`);
              }
            }
          });
        }
      }
      if (at >= 0) {
        void sending.then(() => {
          note(`detached from ${machine}:${session}`);
          finish();
        });
      }
    };
    const socket = api.socket(
      (frame) => {
        if (frame.type === 'ready') {
          socket.send({ type: 'follow-session', machine, session });
        } else if (frame.type === 'following') {
          // The screen now, then what was written since the follow began.
          api.call<ScreenView>('GET', `${path}/screen`).then(
            (screen) => {
              stdout.write(`\x1b[2J\x1b[H${screen.text.replace(/\n$/, '').replaceAll('\n', '\r\n')}`);
              stdout.write(early.join(''));
              shown = true;
              note(`attached to ${machine}:${session}${readOnly ? ' (read-only)' : ''}; Ctrl-] detaches`);
            },
            (error: unknown) => finish(error as Error),
          );
        } else if (frame.type === 'session-output' && typeof frame.data === 'string') {
          if (shown) {
            stdout.write(frame.data);
          } else if (early.length < 1_000) {
            early.push(frame.data);
          }
        } else if (frame.type === 'error') {
          finish(new CliError(`${String(frame.code)}: ${String(frame.message)}`));
        }
      },
      (why) => finish(new CliError(`the hub closed the socket: ${why}`)),
    );
    if (stdin.isTTY) {
      stdin.setRawMode(true);
    }
    stdin.on('data', onInput);
    stdin.resume();
  });
}
