/** Nest injection tokens of the gateway's infrastructure. */
export const NATS = Symbol('NATS');
export const RPC = Symbol('RPC');
export const LOGGER = Symbol('LOGGER');
export const METRICS = Symbol('METRICS');
export const SCHEMA = 'gateway';
