import '@xterm/xterm/css/xterm.css';

import { useComputedColorScheme } from '@mantine/core';
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { useEffect, useRef } from 'react';

import { api, qs } from '../../api/client';
import { useLive } from '../../api/live';
import type { LogChunkView } from '../../api/types';

const DARK = { background: '#1a1b1e', foreground: '#e9ecef' };
const LIGHT = { background: '#f8f9fa', foreground: '#212529', cursor: '#212529', selectionBackground: '#c5d8ff' };

/**
 * A task's output in a terminal (ANSI colours as the program wrote them): every chunk stored so
 * far (GET /api/tasks/:id/logs, paged by `after`), then the live chunks from /ws, each written once.
 */
export default function TaskLogView({ taskId }: { taskId: string }) {
  const box = useRef<HTMLDivElement>(null);
  const { feed } = useLive();
  const scheme = useComputedColorScheme('light');
  const term = useRef<Terminal>(null);

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

    let seen = 0;
    let loaded = false;
    const early: LogChunkView[] = [];
    const write = (c: LogChunkView) => {
      if (c.seq <= seen) {
        return;
      }
      seen = c.seq;
      terminal.write(c.stream === 'stderr' ? `\x1b[31m${c.data}\x1b[0m` : c.data);
      box.current?.setAttribute('data-seq', String(seen));
    };
    // Live chunks that arrive while the stored ones load wait, then are written in order.
    const stop = feed.followLogs(taskId, (c) => (loaded ? write(c) : early.push(c)));
    let cancelled = false;
    void (async () => {
      let after = 0;
      for (;;) {
        const page = await api<{ items: LogChunkView[]; next: number }>('GET', `/api/tasks/${taskId}/logs${qs({ after, limit: 1000 })}`);
        if (cancelled) {
          return;
        }
        page.items.forEach(write);
        if (page.items.length < 1000) {
          break;
        }
        after = page.next;
      }
      loaded = true;
      early.sort((a, b) => a.seq - b.seq).forEach(write);
    })().catch((e: unknown) => terminal.write(`\r\n\x1b[31m(could not load the log: ${String(e)})\x1b[0m\r\n`));
    return () => {
      cancelled = true;
      stop();
      window.removeEventListener('resize', onResize);
      terminal.dispose();
    };
    // The theme is applied by the effect below, without reloading the log.
  }, [taskId, feed]);

  useEffect(() => {
    if (term.current) {
      term.current.options.theme = scheme === 'dark' ? DARK : LIGHT;
    }
  }, [scheme]);

  return <div ref={box} data-testid="task-log" style={{ height: 360, width: '100%', overflow: 'hidden' }} />;
}
