/** A running service: how to stop it gracefully. */
export type StopService = () => Promise<void>;

/**
 * One service a process can host: its own config, logger, metrics, NATS connection and
 * database pool, started and stopped as a unit. A process hosts one of them (production: each
 * service runs alone, scaled on its own) or several (`waggle up` on one machine: one Node
 * start, one module load, each still talking to the others over NATS).
 */
export interface HostedService {
  name: string;
  /** The edge: started once every other service of the process is up, so its first request finds them. */
  startsLast?: boolean;
  start(): Promise<StopService>;
}

/**
 * What a hosting process tells its parent (`waggle up`) over the IPC channel, when there is
 * one: each service as it comes up or fails, so the parent can say so on one line each while
 * the services' own logs go to a file.
 */
export type HostingReport =
  | { type: 'waggle.service.ready'; service: string; ms: number }
  | { type: 'waggle.service.failed'; service: string; error: string };

function report(message: HostingReport): void {
  if (process.send && process.connected) {
    process.send(message);
  }
}

/**
 * Runs services in this process until SIGTERM or SIGINT, then stops them in reverse order
 * and exits 0. Any start-up failure exits 1 with the reason (the others are not left half up).
 */
export function runHosted(services: HostedService[]): void {
  const stops: { name: string; stop: StopService }[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) {
      return;
    }
    stopping = true;
    for (const { name, stop } of stops.filter(Boolean).reverse()) {
      await stop().catch((error: unknown) => {
        process.stderr.write(`${name} failed to stop: ${String((error as Error)?.stack ?? error)}\n`);
        code = 1;
      });
    }
    process.exit(code);
  };
  process.once('SIGTERM', () => void stopAll(0));
  process.once('SIGINT', () => void stopAll(0));
  const startAll = (which: (s: HostedService) => boolean) =>
    Promise.all(
      services.map(async (service, i) => {
        if (!which(service)) {
          return;
        }
        const startedAt = performance.now();
        try {
          // Stopped in the order given, reversed (the edge first), whatever order they came up in.
          stops[i] = { name: service.name, stop: await service.start() };
          report({ type: 'waggle.service.ready', service: service.name, ms: performance.now() - startedAt });
        } catch (error) {
          process.stderr.write(`${service.name} failed to start: ${String((error as Error)?.stack ?? error)}\n`);
          report({ type: 'waggle.service.failed', service: service.name, error: (error as Error)?.message ?? String(error) });
          await stopAll(1);
        }
      }),
    );
  void startAll((s) => !s.startsLast).then(async () => {
    if (!stopping) {
      await startAll((s) => !!s.startsLast);
    }
  });
}

/** Whether a module's `service` export is a HostedService (checked when a host loads apps by path). */
export function isHostedService(value: unknown): value is HostedService {
  const v = value as Partial<HostedService> | undefined;
  return typeof v?.name === 'string' && typeof v.start === 'function';
}
