/**
 * A request stream the caller feeds while the call runs: `push()` a message,
 * `end()` to half-close. Iterating waits for the next pushed message. Used by
 * cases that send only after reading (ping_pong) or never half-close
 * (timeout_on_sleeping_server).
 */
export class RequestQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  /** Queue one message. Ignored after `end()`. */
  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    this.notify();
  }

  /** Half-close: the iteration ends once the queued messages are taken. Idempotent. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
