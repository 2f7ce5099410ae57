import 'reflect-metadata';

import { chromium } from 'playwright-core';

import type { Capabilities, HeartbeatPayload, JoinResponse } from '@waggle/contracts';
import { MachineSubjects } from '@waggle/contracts';
import { newMachineKey } from '@waggle/credentials';
import { connectNats } from '@waggle/messaging';
import { eventually, TestHub } from '@waggle/testing';

import { CHROMIUM_ARGS, DESKTOP, signIn } from '../e2e/visor-browser';

/**
 * How soon the visor shows a fleet of FLEET simulated agents: each joins through the API with
 * its own NKey, connects to NATS with the credential the hub issued (its own subjects only),
 * and sends heartbeats as a node-agent does. Then a browser signed in as admin loads the
 * overview, the machines table and the network picture, and the time from navigation to the
 * fleet on screen is printed (a benchmark, not a test: nothing here passes or fails).
 *
 *   npm run build && node test/dist/bench/visor-fleet.js   (FLEET=500 by default)
 */
const FLEET = Number(process.argv[2] ?? 500);
const HEARTBEAT_MS = 2_000;
const REPS = 3;

const capabilities = (name: string): Capabilities => ({
  os: 'linux',
  arch: 'arm64',
  hostname: name,
  cpus: 4,
  memoryMb: 8192,
  agents: [{ name: 'claude', version: '2.0.0' }],
  tools: [{ name: 'git', version: '2.39.5' }],
  gpus: [],
  labels: ['bench'],
});

async function main() {
  const hub = await TestHub.start({ env: { WAGGLE_JOINS_PER_MINUTE: String(FLEET * 2) } });
  const stops: (() => Promise<void>)[] = [];
  try {
    const token = (
      await hub.api<{ token: string }>('POST', '/api/join-tokens', { maxUses: FLEET, description: 'visor bench' })
    ).body.token;
    const t0 = Date.now();
    const names = Array.from({ length: FLEET }, (_, i) => `sim-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(
        names.slice(i, i + 25).map(async (name) => {
          const key = newMachineKey();
          const res = await fetch(`${hub.url}/api/machines/join`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ joinToken: token, name, natsPublicKey: key.publicKey }),
          });
          if (res.status !== 201) {
            throw new Error(`join ${name}: ${res.status} ${await res.text()}`);
          }
          const joined = (await res.json()) as JoinResponse;
          const nc = await connectNats({
            servers: joined.natsUrl,
            name,
            credentials: { jwt: joined.natsJwt, seed: key.seed },
            inboxPrefix: MachineSubjects.replyPrefix(joined.machineId),
            failFast: true,
          });
          const beat = () => {
            const payload: HeartbeatPayload = {
              v: 1,
              agentVersion: '0.1.0',
              capabilities: capabilities(name),
              metrics: {
                cpuLoad: Math.random(),
                cpuPercent: Math.round(Math.random() * 100),
                memoryUsedMb: 2048 + Math.round(Math.random() * 4096),
                memoryTotalMb: 8192,
                diskFreeMb: 50_000,
                diskTotalMb: 100_000,
                uptimeSeconds: 1000,
              },
              intervalMs: HEARTBEAT_MS,
            };
            nc.publish(MachineSubjects.heartbeat(joined.machineId), JSON.stringify(payload));
          };
          beat();
          const timer = setInterval(beat, HEARTBEAT_MS);
          stops.push(async () => {
            clearInterval(timer);
            await nc.close();
          });
        }),
      );
    }
    await eventually(
      async () => {
        const res = await hub.api<{ machinesOnline: number | null }>('GET', '/api/overview');
        if (res.body.machinesOnline !== FLEET) {
          throw new Error(`${res.body.machinesOnline} online`);
        }
      },
      { timeoutMs: 120_000, what: `${FLEET} machines online` },
    );
    process.stdout.write(`${FLEET} simulated agents joined and online in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: DESKTOP });
      await signIn(page, hub.url, 'admin', hub.adminPassword);
      const since = (start: number) => Math.round(Date.now() - start);
      const rows: Record<string, number[]> = { overview: [], table: [], network: [] };
      for (let r = 0; r < REPS; r++) {
        let start = Date.now();
        await page.goto(`${hub.url}/`);
        await page.getByTestId('stat-machines').getByText(`${FLEET} / ${FLEET}`).waitFor({ timeout: 30_000 });
        rows.overview!.push(since(start));
        start = Date.now();
        await page.goto(`${hub.url}/machines`);
        await page.locator('tr[data-machine]').nth(49).waitFor({ timeout: 30_000 });
        rows.table!.push(since(start));
        await page.getByTestId('network-tab').click();
        start = Date.now();
        await page
          .locator('[data-node]')
          .nth(FLEET - 1)
          .waitFor({ state: 'attached', timeout: 60_000 });
        rows.network!.push(since(start));
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      process.stdout.write(`\nThe visor with ${FLEET} machines (ms from navigation, ${REPS} loads; median):\n`);
      process.stdout.write(
        `  overview, "${FLEET} / ${FLEET}" online:   ${median(rows.overview!)}  (${rows.overview!.join(', ')})\n`,
      );
      process.stdout.write(`  machines table, first 50 rows:    ${median(rows.table!)}  (${rows.table!.join(', ')})\n`);
      process.stdout.write(
        `  network picture, all ${FLEET} nodes:  ${median(rows.network!)}  (${rows.network!.join(', ')}; from opening the tab)\n`,
      );
    } finally {
      await browser.close();
    }
  } finally {
    await Promise.all(stops.map((s) => s()));
    await hub.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
