/** One item's outcome in a group: its value, or the error that is its alone. */
export type ItemOutcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

export interface GroupCommitOptions {
  /** Items in one group at most. */
  maxBatch?: number;
  /** Groups committing at once (each holds a pooled connection). */
  maxInFlight?: number;
}

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: concurrent callers share one transaction. The first item goes at once (no
 * added latency when alone); items that arrive while groups are committing wait and go
 * together in the next, so a burst of N concurrent writes costs a few commits, not N.
 * `commit` gets the items and answers one outcome per item, in order: an item that cannot be
 * done fails alone; a failure of the transaction itself fails its whole group.
 */
export class GroupCommit<I, O> {
  private readonly queue: Waiting<I, O>[] = [];
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly commit: (items: I[]) => Promise<ItemOutcome<O>[]>,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.maxInFlight = options.maxInFlight ?? 2;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length) {
      const group = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      void this.run(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async run(group: Waiting<I, O>[]): Promise<void> {
    let outcomes: ItemOutcome<O>[];
    try {
      outcomes = await this.commit(group.map((g) => g.item));
    } catch (error) {
      for (const g of group) {
        g.reject(error);
      }
      return;
    }
    group.forEach((g, i) => {
      const outcome = outcomes[i];
      if (!outcome) {
        g.reject(new Error('group commit gave no outcome for an item'));
      } else if (outcome.ok) {
        g.resolve(outcome.value);
      } else {
        g.reject(outcome.error);
      }
    });
  }
}
