/** One open pull: its messages as they arrive; it ends once filled or expired, or when closed. */
export interface Pull<M> extends AsyncIterable<M> {
  close(): Promise<void | Error>;
}

export interface TaskIntakeOptions<M> {
  slots: number;
  /** Opens a pull for up to `count` messages (a JetStream fetch). */
  pull: (count: number) => Promise<Pull<M>>;
  /** A pull failed (the connection dropped, the consumer is gone): the next opens after `retryMs`. */
  onPullError: (error: unknown) => void;
  retryMs: number;
  /** Takes a slot until it settles (claim, run, report). */
  handle: (message: M) => Promise<void>;
  /** A handler failed unexpectedly (its slot is free again). */
  onHandleError: (error: unknown) => void;
  signal: AbortSignal;
}

/**
 * A machine's intake of task assignments: pulls sized to its free slots. A slot that frees
 * asks for one more message (slots freed in one turn of the event loop ask together), so
 * what the server was asked for plus what runs never exceeds the slots: the consumer hands
 * this machine no assignment it would have to hold unclaimed.
 */
export class TaskIntake<M> {
  /** Slots taken: an assignment being claimed or an attempt running. */
  private taken = 0;
  /** Messages asked for by pulls still open. */
  private asked = 0;
  private readonly pulls = new Set<Pull<M>>();
  private refillQueued = false;
  private paused = false;

  constructor(private readonly options: TaskIntakeOptions<M>) {}

  get busy(): number {
    return this.taken;
  }

  /** Messages asked for and not yet arrived. */
  get requested(): number {
    return this.asked;
  }

  start(): void {
    this.refill();
  }

  /** Ends the open pulls; running handlers go on. */
  stop(): void {
    for (const pull of this.pulls) {
      void pull.close();
    }
  }

  private refill(): void {
    if (this.refillQueued) {
      return;
    }
    this.refillQueued = true;
    setImmediate(() => {
      this.refillQueued = false;
      const want = this.options.slots - this.taken - this.asked;
      if (want > 0 && !this.options.signal.aborted && !this.paused) {
        this.asked += want;
        void this.pullFor(want);
      }
    });
  }

  private async pullFor(count: number): Promise<void> {
    let received = 0;
    try {
      const pull = await this.options.pull(count);
      this.pulls.add(pull);
      try {
        for await (const message of pull) {
          received++;
          this.asked--;
          this.take(message);
        }
      } finally {
        this.pulls.delete(pull);
      }
    } catch (error) {
      this.options.onPullError(error);
      this.paused = true;
      setTimeout(() => {
        this.paused = false;
        this.refill();
      }, this.options.retryMs);
    } finally {
      // What the pull did not bring is no longer asked for.
      this.asked -= count - received;
    }
    this.refill();
  }

  private take(message: M): void {
    this.taken++;
    void this.options
      .handle(message)
      .catch((error: unknown) => this.options.onHandleError(error))
      .finally(() => {
        this.taken--;
        this.refill();
      });
  }
}
