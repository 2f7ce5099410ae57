import { appendFile, mkdir, open, readFile, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

import type { InboxMessage } from '@waggle/contracts';

import { writePrivateFile } from './identity';

/** A message as kept on the machine. */
export interface StoredMessage extends InboxMessage {
  receivedAt: string;
  readAt?: string;
}

const INBOX_FILE = 'inbox.jsonl';
const READS_FILE = 'reads.jsonl';
const REPORTED_FILE = 'reads.reported';

function parseLines<T>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) {
      continue;
    }
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // A torn last line (crash mid-write) is skipped; the hub re-delivers what was not acked.
    }
  }
  return out;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return '';
    }
    throw error;
  }
}

/**
 * The machine's inbox: append-only JSON lines, so the agent (which appends messages) and
 * the `waggle inbox` command (which appends read marks) never rewrite each other's file.
 * The agent writes and fsyncs a batch before it acknowledges it to the hub, and skips ids
 * it already holds, so a redelivery never shows a message twice.
 *
 * Writing and syncing are two steps so that the agent can write the next batch while the
 * last one's fsync runs: `sync` is a group commit, one fsync for every write before it.
 */
export class InboxStore {
  /** Ids written (a failed write or fsync takes its ids back: the redelivery is stored again). */
  private readonly ids = new Set<string>();
  private handle?: Promise<FileHandle>;
  /** Writes go out one after another, in call order. */
  private writes: Promise<unknown> = Promise.resolve();
  /** Writes made; how many of them a finished fsync covered; how many a successful one did. */
  private written = 0;
  private synced = 0;
  private durable = 0;
  /** Ids of each write not yet covered by an fsync, in write order. */
  private unsynced: { seq: number; ids: string[] }[] = [];
  private syncing?: Promise<void>;

  constructor(private readonly dir: string) {}

  get inboxPath(): string {
    return join(this.dir, INBOX_FILE);
  }

  async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const m of parseLines<StoredMessage>(await readText(this.inboxPath))) {
      this.ids.add(m.id);
    }
  }

  /** Appends the messages not stored yet and fsyncs them; returns them. */
  async append(messages: InboxMessage[], now = new Date()): Promise<StoredMessage[]> {
    const fresh = await this.write(messages, now);
    await this.sync();
    return fresh;
  }

  /**
   * Writes the messages not written yet (not yet on disk: `sync` makes them so); returns
   * them. An id counts as stored from here on, unless the write or its fsync fails.
   */
  write(messages: InboxMessage[], now = new Date()): Promise<StoredMessage[]> {
    const fresh: StoredMessage[] = [];
    const seen = new Set<string>();
    for (const m of messages) {
      if (this.ids.has(m.id) || seen.has(m.id)) {
        continue;
      }
      seen.add(m.id);
      fresh.push({ ...m, receivedAt: now.toISOString() });
    }
    if (!fresh.length) {
      return Promise.resolve(fresh);
    }
    const ids = [...seen];
    ids.forEach((id) => this.ids.add(id));
    const text = fresh.map((m) => JSON.stringify(m)).join('\n') + '\n';
    const done = this.writes.then(async () => {
      try {
        await (await this.file()).write(text);
      } catch (error) {
        ids.forEach((id) => this.ids.delete(id));
        throw error;
      }
      this.unsynced.push({ seq: ++this.written, ids });
      return fresh;
    });
    this.writes = done.catch(() => undefined);
    return done;
  }

  /** Resolves once everything written before the call is on disk: one fsync for all writes waiting. */
  async sync(): Promise<void> {
    await this.writes;
    const target = this.written;
    while (this.synced < target) {
      this.syncing ??= this.fsync().finally(() => (this.syncing = undefined));
      await this.syncing;
    }
    // A failed fsync is not retried: after one, Linux may report success for data it lost.
    if (this.durable < target) {
      throw new Error(`${this.inboxPath}: an fsync failed; the messages are written again when redelivered`);
    }
  }

  private async fsync(): Promise<void> {
    const upTo = this.written;
    const covered = this.unsynced.filter((w) => w.seq <= upTo);
    this.unsynced = this.unsynced.filter((w) => w.seq > upTo);
    try {
      await (await this.file()).sync();
      this.durable = Math.max(this.durable, upTo);
    } catch (error) {
      // Not known to be on disk: forget those ids, so that their redelivery is written again.
      for (const { ids } of covered) {
        ids.forEach((id) => this.ids.delete(id));
      }
      throw error;
    } finally {
      this.synced = Math.max(this.synced, upTo);
    }
  }

  private file(): Promise<FileHandle> {
    this.handle ??= mkdir(this.dir, { recursive: true, mode: 0o700 })
      .then(() => open(this.inboxPath, 'a', 0o600))
      .catch((error: unknown) => {
        this.handle = undefined;
        throw error;
      });
    return this.handle;
  }

  /** Closes the inbox file (after the last write). */
  async close(): Promise<void> {
    await this.writes;
    const handle = this.handle;
    this.handle = undefined;
    await (await handle?.catch(() => undefined))?.close();
  }

  /** Every stored message in the order the hub accepted them (message ids grow in send order). */
  async list(options: { unread?: boolean } = {}): Promise<StoredMessage[]> {
    const messages = parseLines<StoredMessage>(await readText(this.inboxPath));
    const reads = new Map(
      parseLines<{ id: string; at: string }>(await readText(join(this.dir, READS_FILE))).map((r) => [r.id, r.at]),
    );
    const unique = new Map<string, StoredMessage>();
    for (const m of messages) {
      if (!unique.has(m.id)) {
        unique.set(m.id, { ...m, readAt: reads.get(m.id) });
      }
    }
    const all = [...unique.values()].sort((a, b) =>
      BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0,
    );
    return options.unread ? all.filter((m) => !m.readAt) : all;
  }

  /** Records that these messages were read; the agent reports it to the hub. */
  async markRead(ids: string[], now = new Date()): Promise<void> {
    if (!ids.length) {
      return;
    }
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await appendFile(
      join(this.dir, READS_FILE),
      ids.map((id) => JSON.stringify({ id, at: now.toISOString() })).join('\n') + '\n',
      { mode: 0o600 },
    );
  }

  /** Read marks not yet reported to the hub, and the file offset to record once they are. */
  async unreportedReads(): Promise<{ ids: string[]; offset: number }> {
    const path = join(this.dir, READS_FILE);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return { ids: [], offset: 0 };
    }
    const from = Number((await readText(join(this.dir, REPORTED_FILE))).trim() || '0');
    if (from >= size) {
      return { ids: [], offset: from };
    }
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(size - from);
      await handle.read(buffer, 0, buffer.length, from);
      const text = buffer.toString('utf8');
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      const ids = parseLines<{ id: string }>(complete).map((r) => r.id);
      return { ids, offset: from + Buffer.byteLength(complete) };
    } finally {
      await handle.close();
    }
  }

  async markReported(offset: number): Promise<void> {
    await writePrivateFile(join(this.dir, REPORTED_FILE), String(offset));
  }
}
