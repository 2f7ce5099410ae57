import { Inject, Injectable } from '@nestjs/common';

import type {
  CheckoutView,
  ImportedProject,
  ImportProjectsReply,
  ImportProjectsRequest,
  ListCheckoutsRequest,
  Page,
  ReposReport,
} from '@waggle/contracts';
import { RegistryRpc } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER } from '@waggle/service-kit';

import { cursorKeys, iso, limitOf, pageOf } from '../common/paging';
import { ProjectRepository } from '../projects/project.repository';
import { ProjectsService } from '../projects/projects.service';
import { githubRepoOf, keyFromName, remoteKey } from '../projects/remote-key';
import type { CheckoutRow } from './checkout.repository';
import { CheckoutRepository } from './checkout.repository';

/** Every checkout is read for an import; a hub with more is asked to import machine by machine. */
const IMPORT_LIMIT = 5_000;

/** A remote URL as stored and shown: any credential in it dropped. */
export function withoutCredentials(remote: string): string {
  try {
    const url = new URL(remote);
    if (url.username || url.password) {
      url.username = '';
      url.password = '';
      return url.toString();
    }
  } catch {
    // scp-like (git@host:path) or a path: nothing secret in it
  }
  return remote;
}

/** A project's name from its remote: `https://github.com/acme/api.git` → `api`. */
export function nameFromRemote(remote: string): string {
  const last = remote
    .replace(/\.git\/?$/, '')
    .split(/[/:]/)
    .filter(Boolean)
    .pop();
  return last ?? 'project';
}

/**
 * The git repositories machines have under their source folders, and projects made from
 * them. Each machine's report replaces its earlier one; matching is by remote (remoteKey),
 * so the hub knows which machines already have a project checked out.
 */
@Injectable()
export class CheckoutsService {
  private readonly names = new Map<string, string>();

  constructor(
    private readonly checkouts: CheckoutRepository,
    private readonly projectRows: ProjectRepository,
    private readonly projects: ProjectsService,
    private readonly hub: RpcClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async report(machineId: string, report: ReposReport): Promise<{ recorded: number }> {
    const name = await this.machineName(machineId);
    // One row per path (a report naming a path twice keeps the first).
    const unique = [...new Map(report.repos.map((r) => [r.path, r] as const)).values()];
    const rows = unique.map((r) => {
      const remote = r.remote ? withoutCredentials(r.remote) : null;
      return {
        path: r.path,
        remote,
        remote_key: remote ? remoteKey(remote) : null,
        branch: r.branch,
        dirty: r.dirty,
        last_commit: r.lastCommit,
      };
    });
    await this.checkouts.replace(machineId, name, rows);
    this.logger.info({ machineId, repos: rows.length }, 'machine reported its repositories');
    return { recorded: rows.length };
  }

  async list(req: ListCheckoutsRequest): Promise<Page<CheckoutView>> {
    const limit = limitOf(req.limit);
    const keys = cursorKeys(req.cursor);
    const remote = req.project ? (await this.projects.find(req.project)).remote_key : undefined;
    if (req.project && !remote) {
      return { items: [] };
    }
    const rows = await this.checkouts.list({
      machine: req.machine,
      remoteKey: remote ?? undefined,
      after: keys?.length === 2 ? [keys[0]!, keys[1]!] : undefined,
      limit,
    });
    return pageOf(
      rows,
      limit,
      (r) => [r.machine_name, r.path],
      (r) => this.view(r),
    );
  }

  async import(req: ImportProjectsRequest): Promise<ImportProjectsReply> {
    const rows = await this.checkouts.list({ machine: req.machine, limit: IMPORT_LIMIT });
    const skipped = rows.filter((r) => !r.remote_key).map((r) => `${r.machine_name}:${r.path} (no remote)`);
    const byRemote = new Map<string, CheckoutRow[]>();
    for (const row of rows.filter((r) => r.remote_key)) {
      byRemote.set(row.remote_key!, [...(byRemote.get(row.remote_key!) ?? []), row]);
    }
    const projects: ImportedProject[] = [];
    for (const [, checkouts] of [...byRemote].sort(([a], [b]) => a.localeCompare(b))) {
      const first = checkouts[0]!;
      const where = checkouts.map((c) => `${c.machine_name}:${c.path}`);
      const repository = githubRepoOf(first.remote) ?? first.remote!;
      if (first.project_key) {
        projects.push({ key: first.project_key, repository, checkouts: where, result: 'exists' });
        continue;
      }
      const name = nameFromRemote(first.remote!);
      if (req.dryRun) {
        projects.push({ key: keyFromName(name), repository, checkouts: where, result: 'would create' });
        continue;
      }
      const created = await this.projects.create({
        v: 1,
        name,
        repository,
        defaultBranch: first.branch ?? undefined,
        sourcePath: first.path,
        description: `Imported from ${where.join(', ')}`.slice(0, 20_000),
        actor: req.actor,
      });
      projects.push({ key: created.key, repository, checkouts: where, result: 'created' });
    }
    return { projects, skipped };
  }

  private async machineName(machineId: string): Promise<string> {
    const known = this.names.get(machineId);
    if (known) {
      return known;
    }
    const machine = await this.hub.call(RegistryRpc.getMachine, { machine: machineId }, 5_000);
    this.names.set(machineId, machine.name);
    return machine.name;
  }

  private view(row: CheckoutRow): CheckoutView {
    return {
      machineId: row.machine_id,
      machineName: row.machine_name,
      path: row.path,
      remote: row.remote,
      branch: row.branch,
      dirty: row.dirty,
      lastCommit: row.last_commit,
      projectKey: row.project_key,
      reportedAt: iso(row.reported_at)!,
    };
  }
}
