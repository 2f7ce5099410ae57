import type { NatsAuthMaterial } from './material';

export interface ServerConfigOptions {
  host: string;
  port: number;
  /** JetStream file store. */
  storeDir: string;
  /** Where the full resolver keeps account JWTs (and the revocations pushed to it). */
  resolverDir: string;
  /** Monitoring port, or 0 for none. */
  httpPort?: number;
  serverName?: string;
  /** fsync every JetStream write (`sync_interval: always`); needs nats-server 2.10+, so deployments only. */
  syncAlways?: boolean;
}

const q = (s: string) => JSON.stringify(s);

/**
 * nats-server configuration in operator mode: every connection needs a user JWT signed
 * by the WAGGLE account; no user is anonymous (there is no `no_auth_user`). Works on 2.9.
 */
export function natsServerConfig(
  material: Pick<
    NatsAuthMaterial,
    'operatorJwt' | 'systemAccountPublicKey' | 'systemAccountJwt' | 'accountPublicKey' | 'accountJwt'
  >,
  options: ServerConfigOptions,
): string {
  return [
    `server_name: ${q(options.serverName ?? 'waggle')}`,
    `host: ${q(options.host)}`,
    `port: ${options.port}`,
    options.httpPort ? `http_port: ${options.httpPort}` : '',
    `max_payload: 1MB`,
    `jetstream: { store_dir: ${q(options.storeDir)}${options.syncAlways ? ', sync_interval: always' : ''} }`,
    `operator: ${q(material.operatorJwt)}`,
    `system_account: ${q(material.systemAccountPublicKey)}`,
    `resolver: { type: full, dir: ${q(options.resolverDir)}, allow_delete: false, interval: "2m" }`,
    `resolver_preload: {`,
    `  ${material.systemAccountPublicKey}: ${q(material.systemAccountJwt)}`,
    `  ${material.accountPublicKey}: ${q(material.accountJwt)}`,
    `}`,
    '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}
