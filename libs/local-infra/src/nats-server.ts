import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

import { childEnvironment } from '@waggle/config';
import type { NatsAuthMaterial } from '@waggle/credentials';
import { generateAuthMaterial, natsServerConfig, readAuthMaterial, writeAuthMaterial } from '@waggle/credentials';
import { connectNats } from '@waggle/messaging';

const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/opt/homebrew/bin'];

/** nats-server on PATH (and the sbin directories Debian installs it in), or undefined. */
export function findNatsServer(path = childEnvironment().PATH ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter), ...EXTRA_DIRS]) {
    if (!dir) {
      continue;
    }
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

export const NATS_INSTALL_HELP = [
  'No nats-server found on PATH, and WAGGLE_NATS_URL is not set.',
  'Either point Waggle at a NATS server with JetStream:',
  '  WAGGLE_NATS_URL=nats://host:4222 npm start',
  'or install nats-server (2.9 or newer) and run again:',
  '  Debian/Ubuntu: sudo apt-get install nats-server',
  '  macOS:         brew install nats-server',
  '  any system:    download a release from https://github.com/nats-io/nats-server/releases and put nats-server on PATH',
].join('\n');

export interface LocalNatsOptions {
  /** Directory for config, JetStream store, resolver and auth material (reused across starts). */
  dir: string;
  port: number;
  host?: string;
  binary?: string;
  /** Where the server's output goes ('ignore' by default). */
  stdio?: 'ignore' | 'inherit';
  /** Port of the HTTP monitoring endpoints (/varz, /jsz) on 127.0.0.1; none when absent. */
  httpPort?: number;
}

/**
 * A nats-server in operator (decentralized JWT) mode with JetStream, under `dir`. The auth
 * material is generated once and reused, so a restart keeps every machine's credential.
 */
export class LocalNatsServer {
  private process?: ChildProcess;
  material!: NatsAuthMaterial;

  constructor(private readonly options: LocalNatsOptions) {}

  /** URL for clients on this machine. */
  get url(): string {
    const host = this.options.host && this.options.host !== '0.0.0.0' ? this.options.host : '127.0.0.1';
    return `nats://${host}:${this.options.port}`;
  }

  /** Base URL of the monitoring endpoints (`${monitorUrl}/varz`), when `httpPort` was given. */
  get monitorUrl(): string | undefined {
    return this.options.httpPort ? `http://127.0.0.1:${this.options.httpPort}` : undefined;
  }

  get authDir(): string {
    return join(this.options.dir, 'auth');
  }

  /** The JetStream store: every stream, consumer and stored message. */
  get storeDir(): string {
    return join(this.options.dir, 'jetstream');
  }

  async prepare(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    const existing = await readAuthMaterial(this.authDir);
    this.material = existing ?? (await generateAuthMaterial());
    if (!existing) {
      await writeAuthMaterial(this.authDir, this.material);
    }
    const config = natsServerConfig(this.material, {
      host: this.options.host ?? '127.0.0.1',
      port: this.options.port,
      storeDir: this.storeDir,
      resolverDir: join(this.options.dir, 'resolver'),
      httpPort: this.options.httpPort,
    });
    await writeFile(join(this.options.dir, 'nats-server.conf'), config, { mode: 0o600 });
  }

  /** Starts the server and waits until it accepts the hub's credential. */
  async start(): Promise<void> {
    if (!this.material) {
      await this.prepare();
    }
    const binary = this.options.binary ?? findNatsServer();
    if (!binary) {
      throw new Error(NATS_INSTALL_HELP);
    }
    const child = spawn(binary, ['-c', join(this.options.dir, 'nats-server.conf')], {
      stdio: ['ignore', this.options.stdio ?? 'ignore', this.options.stdio ?? 'ignore'],
    });
    this.process = child;
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) =>
        reject(new Error(`nats-server exited with code ${code} (port ${this.options.port} taken?)`)),
      ),
    );
    const ready = (async () => {
      for (;;) {
        try {
          const nc = await connectNats({
            servers: this.url,
            name: 'probe',
            creds: this.material.hubCreds,
            failFast: true,
          });
          await nc.close();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    })();
    await Promise.race([ready, exited]);
  }

  /** Stops the server (SIGTERM lets JetStream flush; SIGKILL simulates a crash). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) {
      return;
    }
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await gone;
    this.process = undefined;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }
}
