/** Nest injection tokens of the infrastructure every hub service gets from the kit. */
export const NATS = Symbol('NATS');
export const LOGGER = Symbol('LOGGER');
export const METRICS = Symbol('METRICS');
/** The service's identity: its name and Postgres schema. */
export const SERVICE = Symbol('SERVICE');

export interface ServiceIdentity {
  /** `registry`, `task-router`, …: log `service`, metric prefix, NATS connection name. */
  name: string;
  /** The service's own Postgres schema (outbox and migrations table live in it). */
  schema: string;
}

/** `task-router` → `waggle_task_router_`: the prefix of every metric the service exposes. */
export function metricPrefix(service: string): string {
  return `waggle_${service.replaceAll('-', '_')}_`;
}
