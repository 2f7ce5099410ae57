import { Catch } from '@nestjs/common';
import type { ArgumentsHost, RpcExceptionFilter } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import { throwError } from 'rxjs';

import type { ErrorBody } from '@waggle/contracts';
import { toErrorBody } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

import { databaseUnavailableError } from './database-errors';

/** Every error a NATS handler throws becomes the error body of the error enum (Nest's default would hide the code). */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<ErrorBody> {
    const subject = host.switchToRpc().getContext<NatsContext>().getSubject();
    const body = toErrorBody(databaseUnavailableError(exception) ?? exception, this.logger, subject);
    return throwError(() => body);
  }
}
