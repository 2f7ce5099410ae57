import type { NatsConnection } from 'nats';

import type { LogChunk } from '@waggle/contracts';
import { publishLogChunk } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

const TAIL_CHARS = 8 * 1024;
const FLUSH_MS = 100;
const CHUNK_CHARS = 16 * 1024;

type Stream = 'stdout' | 'stderr';

export interface LogStreamOptions {
  nc: NatsConnection;
  machineId: string;
  taskId: string;
  attempt: number;
  /** Applied to every piece of output before it is kept or sent. */
  redact: (text: string) => string;
  /**
   * Characters of each stream held back until more output (or the end) comes: a secret cut
   * between two writes is masked once whole. 0 when the attempt holds no secret.
   */
  holdBack?: number;
  logger: Logger;
}

/**
 * An attempt's output on its way to the task's logs: buffered for up to 100 ms or 16 KiB,
 * published as numbered chunks (consecutive output of one stream merged) in order, and the
 * last 8 KiB kept as the result's tail.
 */
export class LogStream {
  private tailText = '';
  private pending: { stream: Stream; data: string }[] = [];
  private pendingChars = 0;
  private seq = 0;
  private flushing: Promise<void> = Promise.resolve();
  private flushTimer?: NodeJS.Timeout;
  /** Per stream: the redacted end of its output not sent yet (it may start a secret). */
  private readonly held: Record<Stream, string> = { stdout: '', stderr: '' };

  constructor(private readonly options: LogStreamOptions) {}

  /** The last 8 KiB of output, redacted. */
  get tail(): string {
    return this.tailText;
  }

  write(stream: Stream, raw: string): void {
    const keep = this.options.holdBack ?? 0;
    let data = this.options.redact(this.held[stream] + raw);
    if (keep > 0) {
      // A secret not yet whole starts within the last `keep` characters: they wait for the rest.
      this.held[stream] = data.slice(-keep);
      data = data.slice(0, -keep);
    }
    this.append(stream, data);
  }

  /** The end of the attempt's output: what was held back goes too, then everything is published. */
  end(): Promise<void> {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.held[stream];
      this.held[stream] = '';
      this.append(stream, this.options.redact(rest));
    }
    return this.flush();
  }

  private append(stream: Stream, data: string): void {
    if (!data) {
      return;
    }
    this.tailText = (this.tailText + data).slice(-TAIL_CHARS);
    this.pending.push({ stream, data });
    this.pendingChars += data.length;
    if (this.pendingChars >= CHUNK_CHARS) {
      void this.flush();
    } else {
      this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_MS);
    }
  }

  /** Publishes what is buffered; resolves once everything written so far was published (or given up). */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.pendingChars = 0;
    this.flushing = this.flushing.then(() => this.publish(batch));
    return this.flushing;
  }

  private async publish(batch: { stream: Stream; data: string }[]): Promise<void> {
    const { nc, machineId, taskId, attempt, logger } = this.options;
    const merged: { stream: Stream; data: string }[] = [];
    for (const part of batch) {
      const last = merged.at(-1);
      if (last && last.stream === part.stream && last.data.length + part.data.length <= CHUNK_CHARS) {
        last.data += part.data;
      } else {
        merged.push({ ...part });
      }
    }
    const js = nc.jetstream();
    for (const part of merged) {
      const chunk: LogChunk = {
        v: 1,
        taskId,
        attempt,
        seq: this.seq++,
        stream: part.stream,
        data: part.data,
        at: new Date().toISOString(),
      };
      await publishLogChunk(js, machineId, chunk).catch((error: unknown) => {
        logger.debug({ err: error }, 'log chunk not published');
      });
    }
  }
}
