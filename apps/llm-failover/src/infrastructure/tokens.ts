/** llm-failover's own injection token: the provider chain built from its config at start. */
export const CHAIN = Symbol('CHAIN');
