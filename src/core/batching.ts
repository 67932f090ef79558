/**
 * Batching independent windows so that padding stays small: windows wait in a queue, and each
 * batch is the oldest waiting window with the windows closest to it in length among the next few
 * (a bounded look-ahead, so memory and latency stay bounded), padding at most 10% of its tokens. Results are delivered in the order
 * the windows were queued, whatever batch each ran in, so every statistic accumulates in the same
 * order as without batching: results do not depend on the batch size.
 */

export interface WindowQueueOptions<T, V> {
  batchSize: number;
  /** How many waiting windows a batch is chosen from (default 8 batches' worth; 1 without batching). */
  lookAhead?: number;
  /** Runs one batch of windows (right-padded to the longest) and returns each window's values. */
  run: (windows: number[][]) => Promise<V[]>;
  /** Receives each window's values, in queue order. */
  deliver: (item: T, values: V) => void;
}

interface Entry<T, V> {
  item: T;
  window: number[];
  values?: V;
  done: boolean;
}

export class WindowQueue<T, V> {
  private readonly entries: Entry<T, V>[] = [];
  private readonly lookAhead: number;
  /** Padded token slots and real tokens run so far (for benchmarks and notes). */
  readonly padding = { slots: 0, tokens: 0 };

  constructor(private readonly opts: WindowQueueOptions<T, V>) {
    this.lookAhead = Math.max(opts.batchSize, opts.lookAhead ?? (opts.batchSize > 1 ? opts.batchSize * 8 : 1));
  }

  get size(): number {
    return this.entries.length;
  }

  push(item: T, window: number[]): void {
    this.entries.push({ item, window, done: false });
  }

  /** Runs batches while enough windows wait to choose from (all of them when `all`). */
  async flush(all: boolean): Promise<void> {
    while (await this.runOne(all));
  }

  /** Runs one batch if enough windows wait (any when `all`); false when none ran. */
  async runOne(all: boolean): Promise<boolean> {
    const waiting = this.entries.filter((e) => !e.done);
    if (waiting.length === 0 || (!all && waiting.length < this.lookAhead)) return false;
    const batch = chooseBatch(waiting.slice(0, this.lookAhead), this.opts.batchSize, (e) => e.window.length);
    const values = await this.opts.run(batch.map((e) => e.window));
    const longest = Math.max(...batch.map((e) => e.window.length));
    this.padding.slots += longest * batch.length;
    batch.forEach((e, i) => {
      e.values = values[i];
      e.done = true;
      this.padding.tokens += e.window.length;
    });
    while (this.entries.length && this.entries[0].done) {
      const e = this.entries.shift()!;
      this.opts.deliver(e.item, e.values as V);
    }
    return true;
  }
}

/**
 * The batch for `candidates[0]` (the oldest waiting window): it, then greedily the candidate that
 * adds the least padding, while the batch pads at most `maxPadding` of its real tokens (a batch
 * may stay smaller than `size` rather than pad more).
 */
export function chooseBatch<E>(candidates: E[], size: number, lengthOf: (e: E) => number, maxPadding = 0.1): E[] {
  const chosen = [0];
  let longest = lengthOf(candidates[0]);
  let tokens = longest;
  const free = new Set(candidates.keys());
  free.delete(0);
  while (chosen.length < size && free.size) {
    let best = -1;
    let bestPad = Infinity;
    for (const i of free) {
      const n = lengthOf(candidates[i]);
      const pad = (chosen.length + 1) * Math.max(longest, n) - (tokens + n);
      if (pad < bestPad) {
        bestPad = pad;
        best = i;
      }
    }
    const n = lengthOf(candidates[best]);
    if (bestPad > maxPadding * (tokens + n)) break;
    chosen.push(best);
    free.delete(best);
    longest = Math.max(longest, n);
    tokens += n;
  }
  // In queue order, so a batch's windows keep their relative order.
  return chosen.sort((a, b) => a - b).map((i) => candidates[i]);
}
