/** Nest injection tokens of the task-router's infrastructure. */
export const NATS = Symbol('NATS');
export const RPC = Symbol('RPC');
export const LOGGER = Symbol('LOGGER');
export const METRICS = Symbol('METRICS');
export const SCHEMA = 'task_router';
