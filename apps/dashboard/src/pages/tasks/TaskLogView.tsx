import '@xterm/xterm/css/xterm.css';

import { useComputedColorScheme } from '@mantine/core';
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { useEffect, useRef } from 'react';

import { api, qs } from '../../api/client';
import { useLive } from '../../api/live';
import type { LogChunkView } from '../../api/types';

const DARK = { background: '#1a1b1e', foreground: '#e9ecef' };
const PAGE = 1000;
const LIGHT = { background: '#f8f9fa', foreground: '#212529', cursor: '#212529', selectionBackground: '#c5d8ff' };

/**
 * A task's output in a terminal (ANSI colours as the program wrote them): every chunk stored so
 * far (GET /api/tasks/:id/logs, paged by `after`), then the live chunks from /ws, each written once.
 */
export default function TaskLogView({ taskId, final }: { taskId: string; final: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const { feed } = useLive();
  const scheme = useComputedColorScheme('light');
  const term = useRef<Terminal>(null);
  const refresh = useRef<() => void>(null);

  useEffect(() => {
    const terminal = new Terminal({
      convertEol: true,
      disableStdin: true,
      scrollback: 10_000,
      fontSize: 13,
      theme: scheme === 'dark' ? DARK : LIGHT,
    });
    term.current = terminal;
    const fit = new FitAddon();
    terminal.loadAddon(fit);
    terminal.open(box.current!);
    fit.fit();
    const onResize = () => fit.fit();
    window.addEventListener('resize', onResize);

    // Stored chunks are numbered by the hub (`seq` of GET …/logs), live ones by the agent per
    // attempt: a live chunk only says "there is more", and the stored log is read from where the
    // page got to. The hub stores a chunk before it announces it, so nothing is missed or doubled.
    let after = 0;
    let cancelled = false;
    let running = false;
    let again = false;
    const catchUp = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          for (;;) {
            const page = await api<{ items: LogChunkView[]; next: number }>(
              'GET',
              `/api/tasks/${taskId}/logs${qs({ after, limit: PAGE })}`,
            );
            if (cancelled) {
              return;
            }
            for (const c of page.items) {
              terminal.write(c.stream === 'stderr' ? `\x1b[31m${c.data}\x1b[0m` : c.data);
            }
            after = page.next;
            box.current?.setAttribute('data-after', String(after));
            if (page.items.length < PAGE) {
              break;
            }
          }
        } while (again && !cancelled);
      } finally {
        running = false;
      }
    };
    const fail = (e: unknown) => terminal.write(`\r\n\x1b[31m(could not load the log: ${String(e)})\x1b[0m\r\n`);
    const stop = feed.followLogs(taskId, () => void catchUp().catch(fail));
    refresh.current = () => void catchUp().catch(fail);
    void catchUp().catch(fail);
    return () => {
      cancelled = true;
      stop();
      window.removeEventListener('resize', onResize);
      terminal.dispose();
    };
    // The theme is applied by the effect below, without reloading the log.
  }, [taskId, feed]);

  // The task ended: read the log to its end (the last live chunk may have come before the follow began).
  useEffect(() => {
    if (final) {
      refresh.current?.();
    }
  }, [final]);

  useEffect(() => {
    if (term.current) {
      term.current.options.theme = scheme === 'dark' ? DARK : LIGHT;
    }
  }, [scheme]);

  return <div ref={box} data-testid="task-log" style={{ height: 360, width: '100%', overflow: 'hidden' }} />;
}
