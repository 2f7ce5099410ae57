/**
 * A session's output waiting to be published: at most `maxChars`, the oldest dropped first
 * and counted, handed out in pieces of at most `chunkChars`.
 */
export class OutputBuffer {
  private pieces: string[] = [];
  private held = 0;
  private dropped = 0;

  constructor(
    private readonly maxChars: number,
    private readonly chunkChars: number,
  ) {}

  /** Characters waiting. */
  get size(): number {
    return this.held;
  }

  take(data: string): void {
    this.pieces.push(data);
    this.held += data.length;
    while (this.held > this.maxChars) {
      const excess = this.held - this.maxChars;
      const first = this.pieces[0]!;
      if (first.length <= excess) {
        this.pieces.shift();
        this.held -= first.length;
        this.dropped += first.length;
      } else {
        this.pieces[0] = first.slice(excess);
        this.held -= excess;
        this.dropped += excess;
      }
    }
  }

  /** Everything waiting, in pieces; the first says how much was dropped before it. Empties the buffer. */
  drain(): { data: string; dropped: number }[] {
    if (!this.held) {
      return [];
    }
    const text = this.pieces.join('');
    const out: { data: string; dropped: number }[] = [];
    for (let at = 0; at < text.length; at += this.chunkChars) {
      out.push({ data: text.slice(at, at + this.chunkChars), dropped: at === 0 ? this.dropped : 0 });
    }
    this.pieces = [];
    this.held = 0;
    this.dropped = 0;
    return out;
  }
}
