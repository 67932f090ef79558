/**
 * Batching independent windows so that padding stays small and memory stays bounded: windows wait
 * in a queue, and each batch is the oldest waiting window with the windows closest to it in length
 * among the next few (a bounded look-ahead, so memory and latency stay bounded), padding at most
 * 10% of its tokens, and as many windows as the memory budget allows at its padded length (see
 * batchCapacity). Results are delivered in the order the windows were queued, whatever batch each
 * ran in, so every statistic accumulates in the same order as without batching: results do not
 * depend on the batch size.
 */

/**
 * What one batch may hold. A pass's activations grow with its token slots (windows × padded
 * length: the residual stream, the MLP's intermediates, the lens's logits) and its attention
 * scores (windows × heads × length², per layer), so both are bounded, with a count on top.
 */
export interface BatchBudget {
  /** Most windows in one batch (`--batch-size`). */
  maxWindows: number;
  /** Most token slots, windows × padded length (`--max-batch-tokens`). */
  maxTokens: number;
  /** Most attention-score elements, windows × heads × padded length². */
  maxAttention: number;
  /** The model's attention (query) heads. */
  heads: number;
}

/**
 * 2^26 attention-score elements: 256 MiB of fp32 scores for one layer's softmax, the largest
 * buffer a long-window pass allocates. At the default token budget it never binds (a full batch of
 * windows of length n holds maxTokens × heads × n scores); it stops a large token budget from
 * batching long windows, whose scores grow with the square of their length.
 */
export const DEFAULT_MAX_BATCH_ATTENTION = 2 ** 26;
/** Heads assumed when the config does not say (as the device estimate does). */
export const DEFAULT_ATTENTION_HEADS = 16;

/** Default token budget of one batch (measured: see the README's speed and memory section). */
export const DEFAULT_MAX_BATCH_TOKENS = 512;

/** The budget for a run's options and the model's head count (unknown: DEFAULT_ATTENTION_HEADS). */
export function batchBudget(opts: { batchSize: number; maxBatchTokens?: number }, heads: number | undefined): BatchBudget {
  return { maxWindows: opts.batchSize, maxTokens: opts.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS, maxAttention: DEFAULT_MAX_BATCH_ATTENTION, heads: heads ?? DEFAULT_ATTENTION_HEADS };
}

/**
 * How many windows padded to `length` one batch may hold: the most that fit every bound, and at
 * least one (a single window always runs; the window length bounds it).
 */
export function batchCapacity(length: number, budget: BatchBudget): number {
  const byTokens = Math.floor(budget.maxTokens / length);
  const byAttention = Math.floor(budget.maxAttention / (budget.heads * length * length));
  return Math.max(1, Math.min(budget.maxWindows, byTokens, byAttention));
}

/** Consecutive windows cut into batches that fit `capacity` (one text's windows, in order). */
export function consecutiveBatches<W extends { length: number }>(windows: W[], capacity: (longest: number) => number): W[][] {
  const out: W[][] = [];
  let batch: W[] = [];
  let longest = 0;
  for (const w of windows) {
    const next = Math.max(longest, w.length);
    if (batch.length && batch.length + 1 > capacity(next)) {
      out.push(batch);
      batch = [];
      longest = 0;
    }
    batch.push(w);
    longest = Math.max(longest, w.length);
  }
  if (batch.length) out.push(batch);
  return out;
}

export interface WindowQueueOptions<T, V> {
  /** Most windows in one batch. */
  batchSize: number;
  /** Most windows of a batch padded to `longest` (default `batchSize`); see batchCapacity. */
  capacity?: (longest: number) => number;
  /** How many waiting windows a batch is chosen from (default 8 batches' worth; 1 without batching). */
  lookAhead?: number;
  /** Runs one batch of windows (right-padded to the longest) and returns each window's values. */
  run: (windows: number[][]) => Promise<V[]>;
  /** Receives each window's values, in queue order. */
  deliver: (item: T, values: V) => void;
}

interface Entry<T, V> {
  item?: T;
  window: number[];
  values?: V;
  done: boolean;
  /** An entry with no window (a text whose values are known): run when its turn to be delivered comes. */
  ready?: () => void;
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

  /**
   * Something with no window to run (a text taken from the record cache) that must be delivered
   * in queue order: `ready` runs after every window queued before it, so statistics accumulate
   * in the same order whatever the batching and whichever texts came from the cache.
   */
  pushReady(ready: () => void): void {
    this.entries.push({ window: [], done: true, ready });
    this.deliverDone();
  }

  /** Delivers the finished entries at the head of the queue. */
  private deliverDone(): void {
    while (this.entries.length && this.entries[0].done) {
      const e = this.entries.shift()!;
      if (e.ready) e.ready();
      else this.opts.deliver(e.item as T, e.values as V);
    }
  }

  /** Runs batches while enough windows wait to choose from (all of them when `all`). */
  async flush(all: boolean): Promise<void> {
    while (await this.runOne(all));
  }

  /** Runs one batch if enough windows wait (any when `all`); false when none ran. */
  async runOne(all: boolean): Promise<boolean> {
    const waiting = this.entries.filter((e) => !e.done);
    if (waiting.length === 0 || (!all && waiting.length < this.lookAhead)) return false;
    const batch = chooseBatch(waiting.slice(0, this.lookAhead), this.opts.capacity ?? this.opts.batchSize, (e) => e.window.length);
    const values = await this.opts.run(batch.map((e) => e.window));
    const longest = Math.max(...batch.map((e) => e.window.length));
    this.padding.slots += longest * batch.length;
    batch.forEach((e, i) => {
      e.values = values[i];
      e.done = true;
      this.padding.tokens += e.window.length;
    });
    this.deliverDone();
    return true;
  }
}

/**
 * The batch for `candidates[0]` (the oldest waiting window): it, then greedily the candidate that
 * adds the least padding, while the batch pads at most `maxPadding` of its real tokens and holds
 * no more windows than `size` allows at its padded length (a batch may stay smaller rather than
 * pad more or outgrow its budget).
 */
export function chooseBatch<E>(candidates: E[], size: number | ((longest: number) => number), lengthOf: (e: E) => number, maxPadding = 0.1): E[] {
  const capacity = typeof size === 'number' ? () => size : size;
  const chosen = [0];
  let longest = lengthOf(candidates[0]);
  let tokens = longest;
  const free = new Set(candidates.keys());
  free.delete(0);
  while (free.size) {
    let best = -1;
    let bestPad = Infinity;
    for (const i of free) {
      const n = lengthOf(candidates[i]);
      // A window that would make the batch too large at the length it pads to is not a candidate.
      if (chosen.length + 1 > capacity(Math.max(longest, n))) continue;
      const pad = (chosen.length + 1) * Math.max(longest, n) - (tokens + n);
      if (pad < bestPad) {
        bestPad = pad;
        best = i;
      }
    }
    if (best < 0) break;
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
