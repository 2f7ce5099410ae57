import { createServer } from 'node:net';

/** `preferred` if it is free on 127.0.0.1, else any free port. */
export async function freePort(preferred = 0, host = '127.0.0.1'): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, host, () => {
        const address = server.address();
        const got = typeof address === 'object' && address ? address.port : undefined;
        server.close(() => resolve(got));
      });
    });
  if (preferred) {
    const got = await tryPort(preferred);
    if (got) {
      return got;
    }
  }
  const any = await tryPort(0);
  if (!any) {
    throw new Error('no free port');
  }
  return any;
}
