import type { ApiClient } from './api-client';
import { CliError } from './api-client';
import { out } from './output';

/** At most one fetch per this long, however many events arrive. */
const REFETCH_MS = 1_000;
/** Ages ("12s ago") are drawn again this often from what was fetched, with no request. */
const REDRAW_MS = 5_000;

/**
 * `--watch`: fetches and draws, then again whenever the hub pushes an event that `matters`
 * (over /ws: nothing polls the API), at most once a second; ages are redrawn every 5 s from
 * what it has. On a terminal each drawing replaces the last; piped, they follow each other.
 * Ends on Ctrl-C, or with an error when the hub closes the socket.
 */
export async function watch<T>(
  api: ApiClient,
  matters: (eventType: string) => boolean,
  fetch: () => Promise<T>,
  draw: (data: T) => void,
): Promise<void> {
  let data = await fetch();
  const show = () => {
    if (process.stdout.isTTY) {
      process.stdout.write('\x1b[2J\x1b[H');
    } else {
      out.line();
    }
    draw(data);
    out.error(`(watching ${api.hubUrl}: updates as the hub reports them; Ctrl-C to stop)`);
  };
  show();
  let due: NodeJS.Timeout | undefined;
  let fetching = Promise.resolve();
  const refetch = () => {
    due ??= setTimeout(() => {
      due = undefined;
      fetching = fetching
        .then(async () => {
          data = await fetch();
          show();
        })
        .catch((error: unknown) => out.error(`[waggle] ${(error as Error).message}`));
    }, REFETCH_MS);
  };
  const redraw = setInterval(show, REDRAW_MS);
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = api.events(
        (type) => matters(type) && refetch(),
        (why) => reject(new CliError(`the hub closed the event stream: ${why}`)),
      );
      process.once('SIGINT', () => {
        socket.close();
        resolve();
      });
    });
  } finally {
    clearInterval(redraw);
    clearTimeout(due);
  }
}
