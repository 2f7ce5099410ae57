import { RpcClient } from '@waggle/messaging';

export { LOGGER, METRICS, NATS } from '@waggle/service-kit';
/** The gateway's calls to the hub services: the kit's RpcClient, with the gateway's request timeout. */
export const RPC = RpcClient;
