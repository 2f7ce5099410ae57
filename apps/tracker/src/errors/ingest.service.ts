import { createHash, randomBytes, randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

import type {
  CreateIngestKeyRequest,
  IngestErrorsReply,
  IngestErrorsRequest,
  IngestKeyCreated,
  IngestKeyRefRequest,
  IngestKeyView,
  ListIngestKeysRequest,
  MachineErrorReport,
  Page,
} from '@waggle/contracts';
import { ErrorCode, HUB_ERRORS_PROJECT, INGEST_KEY_PATTERN, RegistryRpc, WaggleError } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { event } from '@waggle/outbox';
import { LOGGER, TransactionsService } from '@waggle/service-kit';

import { actorName, iso, limitOf, numericCursor, pageOf } from '../common/paging';
import { ProjectRepository } from '../projects/project.repository';
import { ProjectsService } from '../projects/projects.service';
import { TrackerConfig } from '../tracker.config';
import type { IngestKeyRow, TouchedGroup } from './error.repository';
import { ErrorRepository } from './error.repository';
import type { NormalisedEvent } from './normalise';
import { normaliseReport, normaliseSentryEvent } from './normalise';

/** How long a replica trusts what it read about a key (a revoke on another replica takes this long to reach it). */
const KEY_CACHE_MS = 10_000;
/** Most events one flush writes; more wait for the next. */
const BATCH_EVENTS = 2_000;
/** Flushes written side by side (each its own transaction; they lock a group's row only at the end). */
const PARALLEL_FLUSHES = 4;
/** How often groups that got events are cut back to their latest events. */
const TRIM_INTERVAL_MS = 2_000;
/** A group's `error.reported` at most this often (a new group, a regression or a status change at once). */
const ANNOUNCE_INTERVAL_MS = 1_000;
const PRUNE_BATCH = 10_000;

interface Pending {
  projectId: string;
  events: NormalisedEvent[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

const hashOf = (key: string) => createHash('sha256').update(key).digest('hex');

/**
 * Error ingestion: checks the ingest key and its rate, reads the events, and writes them in
 * batches (group commit): requests that arrive while a batch is being written wait for the
 * next one, which writes all of them in one transaction of a few multi-row statements. A
 * request is answered once its batch has committed.
 */
@Injectable()
export class IngestService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly keys = new Map<string, { row: IngestKeyRow | undefined; at: number }>();
  private readonly windows = new Map<string, { start: number; count: number }>();
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private timer?: NodeJS.Timeout;
  private trimTimer?: NodeJS.Timeout;
  /** Groups with events since the last trim. */
  private untrimmed = new Set<string>();
  /** Per group: events kept this minute (spike protection, per replica). */
  private readonly spikes = new Map<string, { minute: number; kept: number }>();
  private readonly announced = new Map<string, { at: number; status: string }>();

  constructor(
    private readonly errors: ErrorRepository,
    private readonly projects: ProjectsService,
    private readonly projectRows: ProjectRepository,
    private readonly hub: RpcClient,
    private readonly tx: TransactionsService,
    private readonly config: TrackerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.prune(), this.config.WAGGLE_TRACKER_ACTIVITY_PRUNE_INTERVAL_MS);
    this.trimTimer = setInterval(() => void this.trim(), TRIM_INTERVAL_MS);
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
    clearInterval(this.trimTimer);
  }

  /**
   * A machine's own failure or a task's crash, as an error of the hub's own project (made on
   * the first report), tagged with the machine the subject vouches for. Rated per machine.
   */
  async reportFromMachine(machineId: string, req: MachineErrorReport): Promise<IngestErrorsReply> {
    const projectId = await this.hubProject();
    const name = await this.machineName(machineId);
    const event = normaliseReport(
      { ...req.report, node: name, tags: { ...req.report.tags, machine: name, machine_id: machineId } },
      new Date(),
    );
    this.chargeWindow(
      `machine:${machineId}`,
      `machine ${name}`,
      this.config.WAGGLE_TRACKER_INGEST_RATE_PER_MINUTE,
      1,
      Date.now(),
    );
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ projectId, events: [event], resolve, reject });
      this.kick();
    });
    return { id: event.id, accepted: 1 };
  }

  private hubProjectId?: string;
  private readonly machineNames = new Map<string, string>();

  private async hubProject(): Promise<string> {
    if (!this.hubProjectId) {
      const existing = await this.projectRows.findByRef(HUB_ERRORS_PROJECT);
      this.hubProjectId =
        existing?.id ??
        (
          await this.projects
            .create({
              v: 1,
              key: HUB_ERRORS_PROJECT,
              name: 'Waggle hub',
              description: "The hub's own errors: node-agents' failures and their tasks' crashes.",
              actor: { kind: 'admin', name: 'tracker' },
            })
            .catch(async () => (await this.projects.find(HUB_ERRORS_PROJECT)) as { id: string })
        ).id;
    }
    return this.hubProjectId;
  }

  /** The machine's name, asked of the registry (its id when the registry does not answer). */
  private async machineName(machineId: string): Promise<string> {
    const known = this.machineNames.get(machineId);
    if (known) {
      return known;
    }
    try {
      const machine = await this.hub.call(RegistryRpc.getMachine, { machine: machineId }, 5_000);
      this.machineNames.set(machineId, machine.name);
      return machine.name;
    } catch {
      return machineId;
    }
  }

  async ingest(req: IngestErrorsRequest): Promise<IngestErrorsReply> {
    const key = await this.keyOf(req.key);
    if (req.kind !== 'plain' && Number(key.project_number) !== req.projectNumber) {
      throw new WaggleError(ErrorCode.Unauthenticated, `the ingest key is not a key of project ${req.projectNumber}`);
    }
    const now = new Date();
    const events =
      req.kind === 'plain'
        ? req.report
          ? [normaliseReport(req.report, now)]
          : []
        : (req.events ?? []).map((e) => normaliseSentryEvent(e, now));
    this.charge(key, events.length, now.getTime());
    if (events.length) {
      await new Promise<void>((resolve, reject) => {
        this.queue.push({ projectId: key.project_id, events, resolve, reject });
        this.kick();
      });
    }
    return { id: events[0]?.id ?? randomUUID().replace(/-/g, ''), accepted: events.length };
  }

  /** A key's events this minute, refused beyond its rate with the seconds to wait. */
  private charge(key: IngestKeyRow, n: number, now: number) {
    this.chargeWindow(key.id, `ingest key ${key.prefix}…`, key.rate_per_minute, n, now);
  }

  private chargeWindow(id: string, what: string, rate: number, n: number, now: number) {
    const start = Math.floor(now / 60_000) * 60_000;
    let window = this.windows.get(id);
    if (!window || window.start !== start) {
      window = { start, count: 0 };
      this.windows.set(id, window);
    }
    if (window.count + Math.max(n, 1) > rate) {
      const retryAfterSeconds = Math.max(1, Math.ceil((start + 60_000 - now) / 1000));
      throw new WaggleError(ErrorCode.RateLimited, `${what} is over its ${rate} events a minute`, {
        retryAfterSeconds,
      });
    }
    window.count += Math.max(n, 1);
  }

  private kick() {
    if (this.scheduled) {
      return;
    }
    this.scheduled = true;
    // One turn of the event loop lets the requests that arrived together share the batch.
    setImmediate(() => {
      this.scheduled = false;
      while (this.queue.length && this.inFlight < PARALLEL_FLUSHES) {
        const batch: Pending[] = [];
        let n = 0;
        while (this.queue.length && n < BATCH_EVENTS) {
          const next = this.queue.shift()!;
          batch.push(next);
          n += next.events.length;
        }
        this.inFlight += 1;
        void this.flush(batch, n).finally(() => {
          this.inFlight -= 1;
          if (this.queue.length) {
            this.kick();
          }
        });
      }
    });
  }

  private async flush(batch: Pending[], n: number) {
    try {
      try {
        await this.write(batch);
      } catch (error) {
        // A group merged away between reading its fingerprints and writing (foreign key
        // violation): written again, the fingerprints lead to the group they were merged into.
        const e = error as { code?: string; driverError?: { code?: string } };
        if ((e.code ?? e.driverError?.code) !== '23503') {
          throw error;
        }
        await this.write(batch);
      }
      batch.forEach((p) => p.resolve());
    } catch (error) {
      this.logger.warn({ err: error, events: n }, 'error batch not stored');
      batch.forEach((p) =>
        p.reject(new WaggleError(ErrorCode.Unavailable, 'the events could not be stored; send them again')),
      );
    }
  }

  /** Whether a group's event is kept: at most the spike limit a minute; the rest are only counted. */
  private keepEvent(groupId: string, now: number): boolean {
    const minute = Math.floor(now / 60_000);
    let spike = this.spikes.get(groupId);
    if (!spike || spike.minute !== minute) {
      if (this.spikes.size > 100_000) {
        this.spikes.clear();
      }
      spike = { minute, kept: 0 };
      this.spikes.set(groupId, spike);
    }
    if (spike.kept >= this.config.WAGGLE_TRACKER_ERROR_SPIKE_PER_MINUTE) {
      return false;
    }
    spike.kept += 1;
    this.untrimmed.add(groupId);
    return true;
  }

  /** `error.reported` for a group at most once a second, unless it is new, regressed or changed status. */
  private announce(t: TouchedGroup, now: number): boolean {
    const last = this.announced.get(t.id);
    if (!t.newGroup && !t.regressed && last && last.status === t.status && now - last.at < ANNOUNCE_INTERVAL_MS) {
      return false;
    }
    if (this.announced.size > 100_000) {
      this.announced.clear();
    }
    this.announced.set(t.id, { at: now, status: t.status });
    return true;
  }

  private async write(batch: Pending[]) {
    const now = new Date();
    await this.tx.run(async (manager) => {
      const touched = await this.errors.storeBatch(
        manager,
        batch.flatMap((p) => p.events.map((e) => ({ projectId: p.projectId, event: e }))),
        (groupId) => this.keepEvent(groupId, now.getTime()),
        now,
      );
      return {
        result: undefined,
        outbox: touched
          .filter((t) => this.announce(t, now.getTime()))
          .map((t) =>
            event(randomUUID(), 'error.reported', {
              groupId: t.id,
              projectId: t.projectId,
              title: t.title,
              status: t.status,
              count: t.count,
              added: t.added,
              newGroup: t.newGroup,
              regressed: t.regressed,
            }),
          ),
      };
    });
  }

  /** Cuts the groups that got events back to their latest events (a few seconds behind the writes). */
  async trim(): Promise<void> {
    if (!this.untrimmed.size) {
      return;
    }
    const groups = [...this.untrimmed];
    this.untrimmed = new Set();
    try {
      await this.errors.trim(groups, this.config.WAGGLE_TRACKER_ERROR_EVENTS_PER_GROUP);
    } catch (error) {
      groups.forEach((g) => this.untrimmed.add(g));
      this.logger.warn({ err: error }, 'error events not trimmed; next time');
    }
  }

  private async keyOf(key: string): Promise<IngestKeyRow> {
    if (!INGEST_KEY_PATTERN.test(key)) {
      throw new WaggleError(ErrorCode.Unauthenticated, 'no ingest key, or not one (32 hex characters)');
    }
    const hash = hashOf(key);
    let cached = this.keys.get(hash);
    if (!cached || Date.now() - cached.at > KEY_CACHE_MS) {
      cached = { row: await this.errors.findKeyByHash(hash), at: Date.now() };
      this.keys.set(hash, cached);
    }
    if (!cached.row || cached.row.revoked_at) {
      throw new WaggleError(ErrorCode.Unauthenticated, 'unknown or revoked ingest key');
    }
    return cached.row;
  }

  async createKey(req: CreateIngestKeyRequest): Promise<Omit<IngestKeyCreated, 'dsn'>> {
    const project = await this.projects.find(req.project);
    const key = randomBytes(16).toString('hex');
    const id = randomUUID();
    await this.errors.insertKey({
      id,
      project_id: project.id,
      name: req.name ?? 'default',
      key_hash: hashOf(key),
      prefix: key.slice(0, 8),
      rate_per_minute: req.ratePerMinute ?? this.config.WAGGLE_TRACKER_INGEST_RATE_PER_MINUTE,
      created_by: actorName(req.actor),
    });
    const row = await this.errors.findKey(id);
    return { ...this.keyView(row!), key };
  }

  async listKeys(req: ListIngestKeysRequest): Promise<Page<IngestKeyView>> {
    const project = await this.projects.find(req.project);
    const limit = limitOf(req.limit);
    const rows = await this.errors.listKeys(project.id, numericCursor(req.cursor), limit);
    return pageOf(
      rows,
      limit,
      (r) => [r.created_us],
      (r) => this.keyView(r),
    );
  }

  async revokeKey(req: IngestKeyRefRequest): Promise<IngestKeyView> {
    if (!(await this.errors.findKey(req.keyId))) {
      throw WaggleError.notFound('ingest key', req.keyId);
    }
    await this.errors.revokeKey(req.keyId);
    this.keys.clear();
    return this.keyView((await this.errors.findKey(req.keyId))!);
  }

  private keyView(row: IngestKeyRow): IngestKeyView {
    return {
      id: row.id,
      projectId: row.project_id,
      projectNumber: Number(row.project_number),
      name: row.name,
      prefix: row.prefix,
      ratePerMinute: row.rate_per_minute,
      createdAt: iso(row.created_at)!,
      createdBy: row.created_by,
      revokedAt: iso(row.revoked_at),
    };
  }

  async prune(): Promise<void> {
    try {
      let pruned = 0;
      for (;;) {
        const n = await this.errors.pruneEvents(this.config.WAGGLE_TRACKER_ERROR_RETENTION_DAYS, PRUNE_BATCH);
        pruned += n;
        if (n < PRUNE_BATCH) {
          break;
        }
      }
      if (pruned) {
        this.logger.info({ pruned }, 'error events older than the retention deleted');
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'error event prune failed; next time');
    }
  }
}
