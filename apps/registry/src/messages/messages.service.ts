import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';

import type {
  InboxMessage,
  ListMessagesRequest,
  MessageView,
  Page,
  ReceiptReply,
  Sender,
  SendMessageRequest,
} from '@waggle/contracts';
import { assertSameRequest, Consumers, ErrorCode, Streams, WaggleError } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';
import type { OutboxEntry } from '@waggle/outbox';
import { event, machineEntry } from '@waggle/outbox';
import type { ItemOutcome } from '@waggle/persistence';
import { GroupCommit } from '@waggle/persistence';
import { LOGGER, NATS, TransactionsService } from '@waggle/service-kit';

import { RegistryMetrics } from '../infrastructure/registry.metrics';
import type { NamedMachine } from '../machines/machine.repository';
import { MachineRepository } from '../machines/machine.repository';
import { MachinesService } from '../machines/machines.service';
import { RegistryConfig } from '../registry.config';
import { MessageRepository, senderOf } from './message.repository';

/** Nats-Msg-Id of one message in one machine's inbox: a re-send is dropped by the stream. */
export const inboxMsgId = (messageId: string, machineId: string) => `msg-${messageId}-${machineId}`;

function inboxEntry(machineId: string, message: InboxMessage): OutboxEntry {
  return machineEntry('inbox', machineId, message, inboxMsgId(message.id, machineId));
}

@Injectable()
export class MessagesService {
  private readonly grouped = new GroupCommit<SendMessageRequest, MessageView>((requests) => this.sendGroup(requests));
  constructor(
    private readonly messages: MessageRepository,
    private readonly machineRepository: MachineRepository,
    private readonly machines: MachinesService,
    private readonly tx: TransactionsService,
    private readonly metrics: RegistryMetrics,
    private readonly config: RegistryConfig,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Stores the message with one delivery per recipient (every machine known now, for
   * `all`) and its inbox publications in one transaction. The caller's success means the
   * message is durable: the relay and reconciler get it to the machine.
   */
  async send(request: SendMessageRequest): Promise<MessageView> {
    // Keyless sends share transactions (group commit); a keyed one goes alone, since its key decides what it stores.
    return request.idempotencyKey ? this.sendKeyed(request) : this.grouped.submit(request);
  }

  /**
   * Concurrent sends in one transaction: recipients of all looked up in one query, the
   * messages, deliveries and inbox publications each written in one statement. A send whose
   * recipient is unknown or revoked fails alone.
   */
  private async sendGroup(requests: SendMessageRequest[]): Promise<ItemOutcome<MessageView>[]> {
    const outcomes = await this.tx.run(async (manager) => {
      const targets = requests.map((r) => r.to.trim());
      const named = [...new Set(targets.filter((t) => t !== 'all' && t !== 'hub'))];
      const known = named.length
        ? await this.machineRepository.findByRefs(manager, named)
        : new Map<string, { id: string; name: string; revoked: boolean }>();
      const everyone = targets.includes('all') ? await this.machineRepository.findAllActive(manager) : [];
      const accepted: { request: SendMessageRequest; to: string; recipients: NamedMachine[] }[] = [];
      const outcomes: (ItemOutcome<MessageView> | { index: number })[] = targets.map((to, i) => {
        const request = requests[i]!;
        if (to === 'all' || to === 'hub') {
          accepted.push({ request, to, recipients: to === 'all' ? everyone : [] });
          return { index: accepted.length - 1 };
        }
        const machine = known.get(to);
        if (!machine) {
          return { ok: false, error: WaggleError.notFound('machine', to) };
        }
        if (machine.revoked) {
          return { ok: false, error: new WaggleError(ErrorCode.Conflict, `machine "${machine.name}" is revoked`) };
        }
        accepted.push({ request, to, recipients: [{ id: machine.id, name: machine.name }] });
        return { index: accepted.length - 1 };
      });
      const stored = accepted.length
        ? await this.messages.insertMessages(
            manager,
            accepted.map((a) => ({ from: a.request.from, to: a.to, body: a.request.body })),
          )
        : [];
      await this.messages.insertDeliveryPairs(
        manager,
        accepted.flatMap((a, i) => a.recipients.map((r) => ({ messageId: stored[i]!.id, machineId: r.id }))),
      );
      const views = accepted.map((a, i) => this.stored(a.request, a.to, a.recipients, stored[i]!));
      return {
        result: outcomes.map((o): ItemOutcome<MessageView> =>
          'index' in o ? { ok: true, value: views[o.index]!.view } : o,
        ),
        outbox: views.flatMap((v) => v.outbox),
      };
    });
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.ok) {
        const to = requests[i]!.to.trim();
        this.metrics.messagesSent.inc({ recipient: to === 'all' ? 'all' : to === 'hub' ? 'hub' : 'machine' });
      }
    }
    return outcomes;
  }

  /** The answer to a stored send, and its inbox publications. */
  private stored(
    request: SendMessageRequest,
    to: string,
    recipients: NamedMachine[],
    stored: { id: string; createdAt: Date },
  ): { view: MessageView; outbox: OutboxEntry[] } {
    const inbox: InboxMessage = {
      v: 1,
      id: stored.id,
      from: request.from,
      to,
      body: request.body,
      sentAt: stored.createdAt.toISOString(),
    };
    const view: MessageView = {
      id: stored.id,
      from: request.from,
      to,
      body: request.body,
      createdAt: inbox.sentAt,
      recipients: recipients.map((r) => ({
        machineId: r.id,
        name: r.name,
        state: 'queued',
        deliveredAt: null,
        readAt: null,
      })),
    };
    // One event for the message (the visor's threads; a message to the hub reaches no inbox),
    // then each delivery announces itself (message.delivered).
    const sent = event(randomUUID(), 'message.sent', {
      messageId: stored.id,
      from: request.from.name,
      ...(request.from.machineId ? { machineId: request.from.machineId } : {}),
      to,
    });
    return { view, outbox: [sent, ...recipients.map((r) => inboxEntry(r.id, inbox))] };
  }

  private async sendKeyed(request: SendMessageRequest): Promise<MessageView> {
    const key = request.idempotencyKey;
    const ttl = this.config.WAGGLE_IDEMPOTENCY_TTL_SECONDS;
    const earlier = key ? await this.messages.findByIdempotencyKey(key, ttl) : undefined;
    if (earlier) {
      assertSameRequest(earlier.fingerprint, request.idempotencyFingerprint);
      return earlier.message;
    }
    const to = request.to.trim();
    const view = await this.tx.run(async (manager) => {
      // Looked up on the transaction's own connection: one commit per send, and no second
      // pooled connection held meanwhile (which would deadlock the pool under concurrent sends).
      const named = to === 'all' || to === 'hub' ? undefined : await this.machines.require(to, manager);
      if (named?.revokedAt) {
        throw new WaggleError(ErrorCode.Conflict, `machine "${named.name}" is revoked`);
      }
      const recipients: NamedMachine[] =
        to === 'all'
          ? await this.machineRepository.findAllActive(manager)
          : named
            ? [{ id: named.id, name: named.name }]
            : [];
      const stored = await this.messages.insertMessage(
        manager,
        request.from,
        to,
        request.body,
        key ? { key, fingerprint: request.idempotencyFingerprint ?? null } : undefined,
      );
      if (!stored) {
        // A concurrent send with the same key won the insert; its message is the answer (read after commit).
        return { result: undefined, outbox: [] };
      }
      await this.messages.insertDeliveries(
        manager,
        stored.id,
        recipients.map((r) => r.id),
      );
      const { view, outbox } = this.stored(request, to, recipients, stored);
      return { result: view, outbox };
    });
    if (!view) {
      const winner = key ? await this.messages.findByIdempotencyKey(key, ttl) : undefined;
      if (!winner) {
        throw new WaggleError(ErrorCode.Conflict, 'a message with this idempotency key is being sent; try again');
      }
      assertSameRequest(winner.fingerprint, request.idempotencyFingerprint);
      return winner.message;
    }
    this.metrics.messagesSent.inc({ recipient: to === 'all' ? 'all' : to === 'hub' ? 'hub' : 'machine' });
    return view;
  }

  async list(query: ListMessagesRequest): Promise<Page<MessageView>> {
    const machineId = query.machine ? (await this.machines.require(query.machine)).id : undefined;
    return this.messages.list(query.limit, query.cursor, machineId, undefined, query.to === 'hub');
  }

  async receipt(machineId: string, ids: string[], kind: 'delivered' | 'read'): Promise<ReceiptReply> {
    const changed = await this.tx.run(async (manager) => {
      const moved = await this.messages.advance(manager, machineId, ids, kind);
      const type = kind === 'delivered' ? 'message.delivered' : 'message.read';
      return {
        result: moved,
        outbox: moved.map((messageId) => event(randomUUID(), type, { messageId, machineId, state: kind })),
      };
    });
    this.metrics.receipts.inc({ kind }, changed.length);
    return { updated: changed.length };
  }

  /**
   * Reconciler for a returning machine: if JetStream holds fewer of its messages than
   * Postgres says are queued (a lost or purged stream), publish the queued ones again.
   * Their Nats-Msg-Ids are the same and the agent drops ids it already has.
   */
  async reconcileInbox(machineId: string): Promise<number> {
    const queued = await this.messages.countQueued(machineId);
    if (!queued) {
      return 0;
    }
    const jsm = await this.nc.jetstreamManager();
    const info = await jsm.consumers.info(Streams.messages.name, Consumers.inbox(machineId));
    const inStream = info.num_pending + info.num_ack_pending;
    if (inStream >= queued) {
      return 0;
    }
    const rows = await this.messages.findQueued(machineId);
    await this.tx.run(() =>
      Promise.resolve({
        result: undefined,
        outbox: rows.map((r) =>
          inboxEntry(machineId, {
            v: 1,
            id: String(r.id),
            from: senderOf(r) satisfies Sender,
            to: r.to_spec,
            body: r.body,
            sentAt: r.created_at.toISOString(),
          }),
        ),
      }),
    );
    this.logger.warn({ machineId, queued, inStream }, 're-sent queued messages missing from JetStream');
    return rows.length;
  }
}
