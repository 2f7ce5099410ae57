import { IsIn, IsObject, IsString, Matches } from 'class-validator';

import type { MachineMetrics } from './machines';
import type { DeliveryState } from './messages';

/** Every domain event type, with its data. `v` of the envelope versions the data shape. */
export interface EventMap {
  'machine.joined': { machineId: string; name: string };
  'machine.online': { machineId: string; name: string };
  'machine.offline': { machineId: string; name: string; lastSeenAt: string | null };
  'machine.revoked': { machineId: string; name: string };
  'message.queued': { messageId: string; to: string; recipients: number };
  'message.delivered': { messageId: string; machineId: string; state: DeliveryState };
  'message.read': { messageId: string; machineId: string; state: DeliveryState };
  /** Not durable: carried on the live subject, not the EVENTS stream. */
  'machine.heartbeat': { machineId: string; name: string; metrics: MachineMetrics };
}

export type EventType = keyof EventMap;
export const EVENT_TYPES = [
  'machine.joined',
  'machine.online',
  'machine.offline',
  'machine.revoked',
  'message.queued',
  'message.delivered',
  'message.read',
  'machine.heartbeat',
] as const satisfies readonly EventType[];

export interface WaggleEvent<T extends EventType = EventType> {
  v: 1;
  /** Unique event id (also the JetStream Nats-Msg-Id). */
  id: string;
  type: T;
  /** ISO time of the state change. */
  at: string;
  data: EventMap[T];
}

/** Envelope check for received events; `data` is trusted once the type is known. */
export class EventEnvelope {
  @IsIn([1])
  v!: 1;

  @IsString()
  @Matches(/^[A-Za-z0-9_-]+$/)
  id!: string;

  @IsIn(EVENT_TYPES)
  type!: EventType;

  @IsString()
  at!: string;

  @IsObject()
  data!: object;
}
