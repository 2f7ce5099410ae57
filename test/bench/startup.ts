import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { childEnvironment } from '@waggle/config';
import type { CreatedJoinToken, MachineView, Page } from '@waggle/contracts';
import { authMaterialFiles, newToken, TokenPrefix } from '@waggle/credentials';
import { createDatabase, dropDatabase, freePort, programPath } from '@waggle/local-infra';
import { eventually, testDatabaseServer } from '@waggle/testing';

import type { BenchConfig } from './bench.config';
import { HttpClient } from './load';
import type { Counts } from './meter';
import { Meter } from './meter';
import { allStats, cmdline, processTree, rssBytes } from './proc';
import { exited, spawnProgram, startProgram, stopProgram } from './programs';
import type { Section } from './stats';
import { BENCH_ENV, summarize } from './stats';

const MIB = 1024 * 1024;

/** Which of our programs a process runs, from its command line (`apps/<name>/dist/main.js`). */
function programOf(pid: number): string | undefined {
  const args = cmdline(pid);
  // `waggle up` hosts the hub's services in one process.
  if (/apps\/cli\/dist\/up\/hub-host\.js/.test(args)) {
    return 'hub (all services)';
  }
  const found = /apps\/([a-z-]+)\/dist\/main\.js/.exec(args);
  if (!found) {
    return undefined;
  }
  // `waggle up` and `waggle agent` are both the cli: name them by their command.
  return found[1] === 'cli'
    ? `waggle ${
        args
          .slice(found.index + found[0].length)
          .trim()
          .split(' ')[0]
      }`
    : found[1];
}

/** Processes of a tree with their RSS, named by program (ours) or command (nats-server). */
function treeMemory(root: number): { name: string; program?: string; pid: number; rss: number }[] {
  return processTree(root).map((s) => {
    const program = programOf(s.pid);
    return { name: program ?? s.comm, program, pid: s.pid, rss: rssBytes(s.pid) ?? 0 };
  });
}

/** Waits for an HTTP 200 at `url`, polling every 10 ms; ms since `startedAt`. */
async function untilOk(url: string, startedAt: number, child: ChildProcess, output: () => string): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`exited ${child.exitCode} before ${url} answered: ${output().slice(-2000)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) {
        return performance.now() - startedAt;
      }
    } catch {
      // not listening yet
    }
    if (performance.now() - startedAt > 120_000) {
      throw new Error(`${url} not ready after 120 s: ${output().slice(-2000)}`);
    }
    await sleep(10);
  }
}

/** A `waggle …` command in its own process group (so that everything it started can be ended). */
function spawnCli(args: string[], env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, [programPath('cli'), ...args], {
    env: childEnvironment({
      WAGGLE_NATS_URL: undefined,
      WAGGLE_TOKEN: undefined,
      WAGGLE_HUB_URL: undefined,
      WAGGLE_PUBLIC_URL: undefined,
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let text = '';
  const keep = (c: Buffer) => {
    text = (text + c.toString('utf8')).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { child, output: () => text };
}

/** SIGTERM to the command (it stops what it started); then nothing of its process group may be left. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const group = child.pid;
  if (!group) {
    return;
  }
  if (child.exitCode === null && child.signalCode === null) {
    const gone = exited(child);
    child.kill('SIGTERM');
    await Promise.race([gone, sleep(20_000)]);
  }
  for (const s of allStats().filter((p) => p.pgrp === group)) {
    try {
      process.kill(s.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await eventually(
    () => {
      const left = allStats().filter((p) => p.pgrp === group && p.state !== 'Z');
      if (left.length) {
        throw new Error(`left running: ${left.map((p) => `${p.pid} ${p.comm}`).join(', ')}`);
      }
    },
    { timeoutMs: 10_000, what: `process group ${group} gone` },
  );
}

/** Counts of a window of one "operation" as rates per second of the window. */
function perSecond(c: Counts): Counts {
  const per = (v: number | undefined) => (v === undefined ? undefined : v / c.seconds);
  return {
    ops: c.seconds,
    seconds: c.seconds,
    commits: per(c.commits),
    rows: per(c.rows),
    natsIn: per(c.natsIn),
    natsOut: per(c.natsOut),
    cpuMs: Object.fromEntries(Object.entries(c.cpuMs).map(([k, v]) => [k, v / c.seconds])),
  };
}

/** Three readings of RSS, a second apart, of what `read` returns (bytes). */
async function rssSamples(read: () => number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    if (i) {
      await sleep(1000);
    }
    samples.push(read() / MIB);
  }
  return samples;
}

/**
 * `npm start` → /ready (cold: fresh WAGGLE_HOME and database; warm: the second start), the idle
 * hub's transactions and memory, and an idle node-agent started as a machine runs it
 * (`waggle agent`), beside a bare Fastify process and a bare Node process with one NATS connection.
 */
export async function benchStartup(cfg: BenchConfig): Promise<Section> {
  const reps = cfg.WAGGLE_BENCH_REPS;
  const server = testDatabaseServer();
  const section: Section = {
    title: `Start-up and idle: \`waggle up\` (what \`npm start\` runs after its build) on the local Postgres (${reps} repetitions)`,
    figures: [],
    counts: [],
    notes: [],
  };
  const cold: number[] = [];
  const warm: number[] = [];
  const bareReady: number[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  try {
    for (let rep = 0; rep < reps; rep++) {
      const home = await mkdtemp(join(tmpdir(), 'waggle-bench-up-'));
      const database = `waggle_bench_up_${randomBytes(4).toString('hex')}`;
      const databaseUrl = await createDatabase(server, database);
      cleanups.push(async () => {
        await dropDatabase(server, database).catch(() => undefined);
        await rm(home, { recursive: true, force: true });
      });
      const port = await freePort();
      const adminToken = newToken(TokenPrefix.admin);
      const env = {
        WAGGLE_HOME: home,
        WAGGLE_DATABASE_URL: databaseUrl,
        WAGGLE_PORT: String(port),
        WAGGLE_NATS_PORT: String(await freePort()),
        WAGGLE_ADMIN_TOKEN: adminToken,
        ...BENCH_ENV,
      };
      const hubUrl = `http://127.0.0.1:${port}`;
      for (const times of [cold, warm]) {
        const startedAt = performance.now();
        const up = spawnCli(['up'], env);
        cleanups.push(() => stopGroup(up.child));
        times.push((await untilOk(`${hubUrl}/ready`, startedAt, up.child, up.output)) / 1000);
        if (times === warm && rep === reps - 1) {
          await idleFigures(cfg, section, { up: up.child, hubUrl, adminToken, home, server, database });
        }
        await stopGroup(up.child);
      }
      const startedAt = performance.now();
      const bare = spawnProgram('bare-fastify', []);
      const port0 = await eventually(() => {
        const found = /^ready (\d+)/m.exec(bare.output());
        if (!found) {
          throw new Error('not listening yet');
        }
        return found[1];
      });
      bareReady.push((await untilOk(`http://127.0.0.1:${port0}/`, startedAt, bare.child, bare.output)) / 1000);
      await stopProgram(bare.child);
    }
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup();
    }
  }
  section.figures.unshift(
    {
      figure: '`waggle up` → /ready, warm (second start)',
      unit: 's',
      waggle: summarize(warm),
      baseline: summarize(bareReady),
      baselineName: 'bare Fastify process: spawn → first 200',
    },
    {
      figure: '`waggle up` → /ready, cold (fresh home and database)',
      unit: 's',
      waggle: summarize(cold),
      baseline: summarize(bareReady),
      baselineName: 'same',
    },
  );
  section.notes.unshift(
    'cold: a fresh WAGGLE_HOME (NATS auth material made, JetStream store empty) and a fresh database (every migration runs) on the local Postgres: no initdb, since the embedded Postgres is not used here.',
    'the `npm start` build step is not timed; /ready is polled every 10 ms from the spawn of `node apps/cli/dist/main.js up`.',
  );
  return section;
}

async function idleFigures(
  cfg: BenchConfig,
  section: Section,
  hub: { up: ChildProcess; hubUrl: string; adminToken: string; home: string; server: string; database: string },
): Promise<void> {
  const api = new HttpClient(hub.hubUrl, hub.adminToken);
  const idleDb = `waggle_bench_idle_${randomBytes(4).toString('hex')}`;
  await createDatabase(hub.server, idleDb);
  const remoteDir = await mkdtemp(join(tmpdir(), 'waggle-bench-agent-'));
  let remote: ChildProcess | undefined;
  let bareNats: ChildProcess | undefined;
  try {
    // Idle once the local agent has joined and start-up work has settled.
    await eventually(
      async () => {
        const page = await api.expect<Page<MachineView>>(200, 'GET', '/api/machines');
        if (!page.items.some((m) => m.status === 'online')) {
          throw new Error('local agent not online yet');
        }
      },
      { timeoutMs: 60_000, what: 'the local agent online' },
    );
    await sleep(3000);
    // Node processes of the hub: `waggle up` and the services it started (not nats-server, not the local agent).
    const hubProcesses = () =>
      treeMemory(hub.up.pid!).filter((p) => p.program && p.program !== 'node-agent' && p.program !== 'waggle agent');
    // CPU over the window; commits and rows read at once in thirds (no 10 s wait: in a steady idle
    // state Postgres's reporting delay shifts both ends of each third alike).
    const meter = await Meter.open({
      postgres: { server: hub.server, database: hub.database },
      probes: [
        { name: 'hub node processes', pids: () => hubProcesses().map((p) => p.pid) },
        Meter.postgres(hub.database),
      ],
    });
    const quiet = await Meter.open({ postgres: { server: hub.server, database: idleDb }, probes: [] });
    try {
      await Meter.settle();
      const third = (cfg.WAGGLE_BENCH_IDLE_SECONDS * 1000) / 3;
      const tps: number[] = [];
      const untouched: number[] = [];
      const rss: number[] = [];
      await meter.start();
      const first = await Promise.all([meter.postgresNow(), quiet.postgresNow()]);
      const firstAt = performance.now();
      let [before, at] = [first, firstAt];
      for (let i = 0; i < 3; i++) {
        await sleep(third);
        const now = await Promise.all([meter.postgresNow(), quiet.postgresNow()]);
        const seconds = (performance.now() - at) / 1000;
        tps.push((now[0].commits - before[0].commits) / seconds);
        untouched.push((now[1].commits - before[1].commits) / seconds);
        rss.push(hubProcesses().reduce((a, p) => a + p.rss, 0) / MIB);
        [before, at] = [now, performance.now()];
      }
      const window = (at - firstAt) / 1000;
      const cpu = perSecond((await meter.end(1)).withoutPostgres());
      const idle: Counts = {
        ...cpu,
        commits: (before[0].commits - first[0].commits) / window,
        rows: (before[0].rows - first[0].rows) / window,
      };
      const shown = hubProcesses();
      const others = treeMemory(hub.up.pid!).filter((p) => !shown.some((h) => h.pid === p.pid));
      section.counts.push({ operation: 'idle hub, per second', reps: [idle] });
      // Memory of an idle machine as it runs the agent: `waggle agent`, everything it starts.
      const token = (
        await api.expect<CreatedJoinToken>(201, 'POST', '/api/join-tokens', { maxUses: 1, description: 'bench' })
      ).token;
      const agent = spawnCli(
        ['agent', '--hub', hub.hubUrl, '--join-token', token, '--name', 'bench-remote', '--state-dir', remoteDir],
        {},
      );
      remote = agent.child;
      await eventually(
        async () => {
          const m = await api.call<MachineView>('GET', '/api/machines/bench-remote');
          if (m.status !== 200 || m.body.status !== 'online') {
            throw new Error(`bench-remote: ${m.status}`);
          }
        },
        { timeoutMs: 30_000, what: `bench-remote online (${agent.output().slice(-500)})` },
      );
      await sleep(3000);
      const agentRss = await rssSamples(() => treeMemory(remote!.pid!).reduce((a, p) => a + p.rss, 0));
      const agentTree = treeMemory(remote.pid!);
      // `waggle up` remembers the port it gave nats-server under WAGGLE_HOME.
      const natsUrl = `nats://127.0.0.1:${(await readFile(join(hub.home, 'nats', 'port'), 'utf8')).trim()}`;
      const bare = await startProgram('bare-nats', [
        natsUrl,
        authMaterialFiles(join(hub.home, 'nats', 'auth')).hubCreds,
      ]);
      bareNats = bare.child;
      await sleep(3000);
      const bareRss = await rssSamples(() => rssBytes(bare.child.pid!) ?? 0);
      section.figures.push(
        {
          figure: 'idle hub: Postgres transactions/s',
          unit: '/s',
          waggle: summarize(tps),
          baseline: summarize(untouched),
          baselineName: 'an untouched database on the same server, same window',
        },
        {
          figure: `idle hub: RSS of its ${shown.length} Node processes`,
          unit: 'MiB',
          waggle: summarize(rss),
          baseline: summarize(bareRss),
          baselineName: 'bare Node process holding one NATS connection',
        },
        {
          figure: `idle node-agent (\`waggle agent\`: ${agentTree.length} process${agentTree.length > 1 ? 'es' : ''})`,
          unit: 'MiB',
          waggle: summarize(agentRss),
          baseline: summarize(bareRss),
          baselineName: 'bare Node process holding one NATS connection',
        },
      );
      section.notes.push(
        `idle hub: a ${cfg.WAGGLE_BENCH_IDLE_SECONDS} s window in thirds, from 13 s after the local agent was online; RSS at the end of each third, by process: ${shown
          .map((p) => `${p.name} ${Math.round(p.rss / MIB)}`)
          .join(', ')} MiB; not counted: ${others.map((p) => `${p.name} ${Math.round(p.rss / MIB)}`).join(', ')} MiB.`,
        `idle node-agent: \`waggle agent --hub … --join-token …\` and everything it started, 3 s after it was online: ${agentTree
          .map((p) => `${p.name} ${Math.round(p.rss / MIB)}`)
          .join(', ')} MiB.`,
      );
    } finally {
      await meter.close();
      await quiet.close();
    }
  } finally {
    api.close();
    if (remote) {
      await stopGroup(remote);
    }
    if (bareNats) {
      await stopProgram(bareNats);
    }
    await dropDatabase(hub.server, idleDb).catch(() => undefined);
    await rm(remoteDir, { recursive: true, force: true });
  }
}
