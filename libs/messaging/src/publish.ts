import type { JetStreamClient, NatsConnection, PubAck } from 'nats';

import type { LivePublishMap, PublishMap } from '@waggle/contracts';
import { LiveSubjects, MachineSubjects } from '@waggle/contracts';

import { encodeJson, outgoingHeaders } from './codec';

/** Core-NATS edges of one machine: the machine's heartbeat up, a cancel down. */
export type MachinePublishName = 'heartbeat' | 'cancel';

/**
 * Publishes a named core-NATS edge of one machine (contracts' PublishMap types the payload)
 * with the current correlation id in its headers.
 */
export function publishMachine<N extends MachinePublishName>(
  nc: NatsConnection,
  name: N,
  machineId: string,
  payload: PublishMap[N],
): void {
  nc.publish(MachineSubjects[name](machineId), encodeJson(payload), { headers: outgoingHeaders() });
}

/** Publishes to a live feed (lossy, for dashboards and followers). */
export function publishLive<N extends keyof LivePublishMap>(
  nc: NatsConnection,
  name: N,
  payload: LivePublishMap[N],
): void {
  const subject =
    name === 'taskLogs'
      ? LiveSubjects.taskLogs((payload as LivePublishMap['taskLogs']).taskId)
      : LiveSubjects.heartbeat;
  nc.publish(subject, encodeJson(payload), { headers: outgoingHeaders() });
}

/** A machine's task output into JetStream (stream WAGGLE_LOGS), acknowledged by the server. */
export function publishLogChunk(
  js: JetStreamClient,
  machineId: string,
  chunk: PublishMap['taskLogs'],
): Promise<PubAck> {
  return js.publish(MachineSubjects.taskLogs(machineId, chunk.taskId), encodeJson(chunk), {
    headers: outgoingHeaders(),
  });
}
