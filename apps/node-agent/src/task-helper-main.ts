// The agent's task helper: `node task-helper-main.js <agent mark> <grace ms>`, started by
// task-helper.ts with an IPC channel. It starts the agent's programs, so that the agent (a
// big process) never forks, streams their output back, and reports when each has ended.
// Once the agent is gone (its end of the channel closed, however it ended, SIGKILL
// included) it stops every process of the agent's life and exits. It loads Node's own
// modules and process-group.ts only: small, and quick to fork from.
import { ProcessGroup } from './process-group';
import { markedBy, stopMarked } from './process-marks';
import type { HelperEvent, HelperRequest } from './task-helper-protocol';
import { HELPER_TITLE } from './task-helper-protocol';

const [agentMark, grace] = process.argv.slice(2);
const graceMs = Number(grace) || 0;
const running = new Map<number, AbortController>();
let agentGone = false;

function send(event: HelperEvent): void {
  if (process.connected) {
    // A send that fails means the agent is gone: 'disconnect' follows.
    process.send?.(event, undefined, undefined, () => undefined);
  }
}

/** To the agent's log while it listens; a JSON line on stderr (the agent's) once it is gone. */
function log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  if (process.connected) {
    send({ t: 'log', level, msg, fields });
    return;
  }
  const levels = { info: 30, warn: 40, error: 50 };
  process.stderr.write(
    `${JSON.stringify({ level: levels[level], time: new Date().toISOString(), service: 'node-agent', component: 'task-helper', ...fields, msg })}\n`,
  );
}

function run(request: Extract<HelperRequest, { t: 'run' }>): void {
  const { id, argv, cwd, env, mark, stdin, keep } = request;
  const stop = new AbortController();
  running.set(id, stop);
  ProcessGroup.run(argv, {
    cwd,
    env,
    mark,
    stdin,
    keep,
    graceMs: request.graceMs,
    signal: stop.signal,
    captureStdout: false,
    onOutput: (stream, data) => send({ t: 'out', id, stream, data }),
  })
    .then(
      ({ exitCode }) => send({ t: 'done', id, exitCode }),
      (error: unknown) => send({ t: 'done', id, exitCode: null, error: (error as Error).message }),
    )
    .finally(() => running.delete(id));
}

function sweep(request: Extract<HelperRequest, { t: 'sweep' }>): void {
  stopMarked(markedBy(request.mark), request.graceMs).then(
    (count) => send({ t: 'swept', id: request.id, count }),
    (error: unknown) => {
      log('error', 'sweep failed', { err: String(error) });
      send({ t: 'swept', id: request.id, count: 0 });
    },
  );
}

/** The agent is gone: nothing of its tasks may run on (the hub gives them to another machine). */
async function reap(): Promise<void> {
  if (agentGone) {
    return;
  }
  agentGone = true;
  const stopped = await stopMarked(markedBy(agentMark!), graceMs);
  if (stopped) {
    log('warn', "the agent is gone: stopped its tasks' processes", { stopped });
  }
  process.exit(0);
}

function main(): void {
  if (!agentMark || !process.send) {
    process.stderr.write('usage: task-helper-main.js <agent mark> <grace ms>, started with an IPC channel\n');
    process.exit(2);
  }
  process.title = HELPER_TITLE;
  // Its stderr is the agent's: once the agent is gone, a write may find no reader.
  process.stderr.on('error', () => undefined);
  process.on('message', (request: HelperRequest) => {
    switch (request.t) {
      case 'run':
        run(request);
        break;
      case 'stop':
        running.get(request.id)?.abort();
        break;
      case 'sweep':
        sweep(request);
        break;
    }
  });
  process.on('disconnect', () => void reap());
  send({ t: 'ready' });
}

main();
