import type { Command } from 'commander';

import type { MachineView } from '@waggle/contracts';

import { ApiClient } from '../api-client';
import type { CliConfig } from '../cli.config';
import { ago, out, state } from '../output';
import { watch } from '../watch';

/** CPU busy %; an older agent sends only its load average, shown as such. */
function cpuColumn(metrics: MachineView['metrics']): string {
  if (!metrics) {
    return '-';
  }
  return metrics.cpuPercent !== undefined ? `${Math.round(metrics.cpuPercent)}%` : `load ${metrics.cpuLoad.toFixed(2)}`;
}

/** The fleet as a table, states in colour on a terminal. */
function machinesTable(items: MachineView[]) {
  if (!items.length) {
    return out.line('No machines. Create a join token with `waggle token create`.');
  }
  out.table(
    ['NAME', 'STATUS', 'LAST SEEN', 'CPU', 'MEMORY', 'CAPABILITIES', 'LABELS', 'PERMISSIONS'],
    items.map((m) => [
      m.name,
      state(m.status),
      ago(m.lastSeenAt),
      cpuColumn(m.metrics),
      m.metrics ? `${Math.round((m.metrics.memoryUsedMb / m.metrics.memoryTotalMb) * 100)}%` : '-',
      m.capabilityTags.filter((t) => !t.startsWith('os:') && !t.startsWith('arch:')).join(' ') || '-',
      m.labels.join(' ') || '-',
      m.permissions.join(' ') || '-',
    ]),
  );
}
export function registerMachines(program: Command, config: CliConfig) {
  const machines = program
    .command('machines')
    .description('list the machines of the hub')
    .option('--status <status>', 'online, offline or revoked')
    .option('--capability <tag>', 'e.g. claude, ollama:llama3, gpu')
    .option('--label <label>', 'e.g. gpu=4090')
    .option('--json', 'print JSON')
    .option('--watch', 'keep the list up to date as machines come, go and report')
    .option('--hub <url>')
    .option('--token <token>')
    .action(
      async (opts: {
        status?: string;
        capability?: string;
        label?: string;
        json?: boolean;
        watch?: boolean;
        hub?: string;
        token?: string;
      }) => {
        const api = await ApiClient.fromFlags(opts, config);
        const fetch = () =>
          api.all<MachineView>('/api/machines', {
            status: opts.status,
            capability: opts.capability,
            label: opts.label,
          });
        const draw = (items: MachineView[]) => (opts.json ? out.json(items) : machinesTable(items));
        if (opts.watch) {
          // A heartbeat changes only ages and metrics: the drawing every few seconds shows the ages.
          return watch(api, (type) => type.startsWith('machine.') && type !== 'machine.heartbeat', fetch, draw);
        }
        draw(await fetch());
      },
    );

  for (const [verb, granted, description] of [
    [
      'grant',
      true,
      'grant a machine a permission (admin). dispatch: it may create tasks through the API, never shell or command tasks for other machines',
    ],
    ['withdraw', false, 'withdraw a permission from a machine (admin)'],
  ] as const) {
    machines
      .command(`${verb} <machine> <permission>`)
      .description(description)
      .option('--json', 'print JSON')
      .option('--hub <url>')
      .option('--token <token>')
      .action(async (machine: string, permission: string, opts: { json?: boolean; hub?: string; token?: string }) => {
        const api = await ApiClient.fromFlags(opts, config);
        const path = `/api/machines/${encodeURIComponent(machine)}/permissions/${encodeURIComponent(permission)}`;
        const view = await api.call<MachineView>(granted ? 'PUT' : 'DELETE', path);
        if (opts.json) {
          return out.json(view);
        }
        out.line(`${view.name}: ${view.permissions.length ? view.permissions.join(', ') : 'no permissions'}`);
      });
  }

  machines
    .command('revoke <machine>')
    .description('revoke a machine: its credential stops working at once')
    .option('--json', 'print JSON')
    .option('--hub <url>')
    .option('--token <token>')
    .action(async (machine: string, opts: { json?: boolean; hub?: string; token?: string }) => {
      const api = await ApiClient.fromFlags(opts, config);
      const revoked = await api.call<MachineView>('DELETE', `/api/machines/${encodeURIComponent(machine)}`);
      if (opts.json) {
        return out.json(revoked);
      }
      out.line(`revoked ${revoked.name} (${revoked.id}): its API and NATS credentials stopped working`);
    });
}
