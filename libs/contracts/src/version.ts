/** Waggle's version, as its services announce it (NATS service discovery) and the CLI prints it. */
export const WAGGLE_VERSION = '0.1.0';
