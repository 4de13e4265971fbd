/**
 * A bounded FIFO that makes room by dropping its oldest item, and remembers how many it dropped
 * since the last `takeDropped()`. One per live-update subscriber: a slow reader loses the oldest
 * events it has not been sent yet, never blocks the publisher, and is told how many it lost.
 */
export class DropOldestQueue<T> {
  private readonly items: Array<T | undefined>;
  private head = 0;
  private count = 0;
  private dropped = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('capacity must be a positive integer');
    this.items = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Adds an item; returns true when the oldest item had to be dropped for it. */
  push(item: T): boolean {
    let droppedOne = false;
    if (this.count === this.capacity) {
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count -= 1;
      this.dropped += 1;
      droppedOne = true;
    }
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count += 1;
    return droppedOne;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count -= 1;
    return item;
  }

  /** How many items were dropped since the last call (and resets the count). */
  takeDropped(): number {
    const n = this.dropped;
    this.dropped = 0;
    return n;
  }
}
