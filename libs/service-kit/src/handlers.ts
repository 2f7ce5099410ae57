import { EventPattern, MessagePattern } from '@nestjs/microservices';
import type { NatsContext } from '@nestjs/microservices';

import type {
  MachineEventName,
  MachineReplyOf,
  MachineRequestName,
  MachineRequestOf,
  PublishMap,
  RpcRequest,
  RpcResponse,
  RpcSubject,
} from '@waggle/contracts';
import { MachineEventWildcards, machineIdOf, MachineWildcards } from '@waggle/contracts';

type Handler<Req, Res> = (request: Req, ...context: never[]) => Promise<Res> | Res;
/** A method decorator that accepts only methods assignable to `H`. */
type TypedMethodDecorator<H> = <F extends H>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<F>,
) => void;

/** Serves a hub-internal request subject; the compiler holds the method to the subject's request and reply types. */
export function HandleRpc<S extends RpcSubject>(
  subject: S,
): TypedMethodDecorator<Handler<RpcRequest<S>, RpcResponse<S>>> {
  return MessagePattern(subject);
}

/** Serves a machine's request on its wildcard; read the machine's id with `machineOf(context)`. */
export function HandleMachine<N extends MachineRequestName>(
  name: N,
): TypedMethodDecorator<Handler<MachineRequestOf<N>, MachineReplyOf<N>>> {
  return MessagePattern(MachineWildcards[name]);
}

/** Consumes a machine's plain publish (no reply) on its wildcard. */
export function OnMachineEvent<N extends MachineEventName>(
  name: N,
): TypedMethodDecorator<Handler<PublishMap[N], void>> {
  return EventPattern(MachineEventWildcards[name]);
}

/** The id of the machine whose own subject carried this request (NATS permissions vouch for it). */
export function machineOf(context: NatsContext): string {
  return machineIdOf(context.getSubject());
}
