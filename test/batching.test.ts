/** Grouping windows of similar length into batches: less padding, results in queue order. */
import assert from 'node:assert/strict';
import { batchBudget, batchCapacity, chooseBatch, consecutiveBatches, DEFAULT_ATTENTION_HEADS, DEFAULT_MAX_BATCH_ATTENTION, DEFAULT_MAX_BATCH_TOKENS, WindowQueue, type BatchBudget } from '../src/core/batching';

const lengths = [500, 12, 480, 30, 510, 25, 490, 8, 300, 310, 305, 20, 7, 512, 499, 11, 260];
const windows = lengths.map((n, i) => Array.from({ length: n }, (_, t) => i * 1000 + t));

async function runQueue(batchSize: number, lookAhead?: number, capacity?: (longest: number) => number) {
  const batches: number[][] = [];
  const delivered: { item: number; values: number }[] = [];
  const q = new WindowQueue<number, number>({
    batchSize,
    capacity,
    lookAhead,
    run: async (ws) => {
      assert.ok(ws.length <= batchSize);
      batches.push(ws.map((w) => w.length));
      return ws.map((w) => w.reduce((a, b) => a + b, 0));
    },
    deliver: (item, values) => delivered.push({ item, values }),
  });
  for (const [i, w] of windows.entries()) {
    q.push(i, w);
    await q.flush(false);
  }
  await q.flush(true);
  return { batches, delivered, padding: q.padding };
}

describe('batching windows by length', () => {
  it('delivers every window once, in queue order, with its own values, whatever the batch size', async () => {
    const one = await runQueue(1);
    for (const size of [2, 4, 16]) {
      const got = await runQueue(size);
      assert.deepEqual(got.delivered, one.delivered, `batch ${size}`);
    }
    assert.deepEqual(one.delivered.map((d) => d.item), windows.map((_, i) => i));
  });

  it('pads much less than batching in arrival order', async () => {
    const grouped = await runQueue(4);
    const waste = (p: { slots: number; tokens: number }) => p.slots / p.tokens - 1;
    let fifoSlots = 0;
    for (let i = 0; i < lengths.length; i += 4) fifoSlots += Math.max(...lengths.slice(i, i + 4)) * lengths.slice(i, i + 4).length;
    const fifo = { slots: fifoSlots, tokens: lengths.reduce((a, b) => a + b, 0) };
    assert.ok(waste(grouped.padding) <= 0.1, `grouped padding ${waste(grouped.padding)}`);
    assert.ok(waste(fifo) > 0.5, `arrival-order padding ${waste(fifo)}`);
    assert.ok(grouped.batches.some((b) => b.length === 4), 'similar lengths still share batches');
    assert.equal(grouped.padding.tokens, lengths.reduce((a, b) => a + b, 0));
  });

  it('chooseBatch holds the oldest window and its nearest lengths', () => {
    assert.deepEqual(chooseBatch([100, 5, 90, 7, 101, 6, 99], 3, (x) => x), [100, 101, 99]);
    // Nothing close enough: the oldest runs with what pads little, or alone.
    assert.deepEqual(chooseBatch([5, 100, 6], 4, (x) => x), [5, 6]);
    assert.deepEqual(chooseBatch([100, 5, 6], 4, (x) => x), [100]);
  });

  it('chooseBatch stops at the capacity of the length the batch pads to', () => {
    // 512 token slots: windows of 100 fit five to a batch, of 128 only four.
    const byTokens = (longest: number) => Math.floor(512 / longest);
    assert.deepEqual(chooseBatch([100, 101, 99, 98, 100, 102], byTokens, (x) => x), [100, 101, 99, 98, 100]);
    // Adding the 128 would make five windows of 128 (640 slots): the four 100s run together.
    assert.deepEqual(chooseBatch([100, 128, 100, 100, 100], byTokens, (x) => x), [100, 100, 100, 100]);
    // Capacity 1 at the oldest window's length: it runs alone.
    assert.deepEqual(chooseBatch([600, 590, 580], byTokens, (x) => x), [600]);
  });
});

describe('batch budget', () => {
  const budget = (o: Partial<BatchBudget>): BatchBudget => ({ maxWindows: 16, maxTokens: 512, maxAttention: 2 ** 26, heads: 8, ...o });

  it('holds as many windows as fit the token slots, the attention scores and the count', () => {
    // Token slots bind: floor(512 / 512) = 1, floor(512 / 100) = 5; 2^26 / (8 * 512^2) = 32 does not.
    assert.equal(batchCapacity(512, budget({})), 1);
    assert.equal(batchCapacity(100, budget({})), 5);
    // The count binds: floor(512 / 20) = 25 > 16.
    assert.equal(batchCapacity(20, budget({})), 16);
    // A window longer than the budget still runs, alone.
    assert.equal(batchCapacity(600, budget({})), 1);
    // Attention binds under a large token budget: 2^26 / (8 * 2048^2) = 2 (tokens allow 32), 2^26 / (8 * 1024^2) = 8 (tokens allow 64).
    assert.equal(batchCapacity(2048, budget({ maxTokens: 65536 })), 2);
    assert.equal(batchCapacity(1024, budget({ maxTokens: 65536 })), 8);
    // 14 heads, windows of 1000: 2^26 / 14e6 = 4.79.
    assert.equal(batchCapacity(1000, budget({ maxTokens: 65536, heads: 14 })), 4);
    // batch size 1 is batch size 1 whatever the budget.
    assert.equal(batchCapacity(8, budget({ maxWindows: 1 })), 1);
  });

  it('takes the default token and attention budgets and the config heads, or a guess without them', () => {
    assert.deepEqual(batchBudget({ batchSize: 4 }, 14), { maxWindows: 4, maxTokens: DEFAULT_MAX_BATCH_TOKENS, maxAttention: DEFAULT_MAX_BATCH_ATTENTION, heads: 14 });
    assert.deepEqual(batchBudget({ batchSize: 4, maxBatchTokens: 2048 }, undefined), { maxWindows: 4, maxTokens: 2048, maxAttention: DEFAULT_MAX_BATCH_ATTENTION, heads: DEFAULT_ATTENTION_HEADS });
  });

  it("cuts one text's consecutive windows into batches that fit", () => {
    const w = (n: number) => Array.from({ length: n }, () => 0);
    const lengthsOf = (bs: number[][][]) => bs.map((b) => b.map((x) => x.length));
    const cap = (slots: number) => (longest: number) => batchCapacity(longest, budget({ maxTokens: slots }));
    assert.deepEqual(lengthsOf(consecutiveBatches([w(512), w(512), w(512), w(100)], cap(1024))), [[512, 512], [512, 100]]);
    assert.deepEqual(lengthsOf(consecutiveBatches([w(100), w(100), w(100), w(600)], cap(512))), [[100, 100, 100], [600]]);
    assert.deepEqual(lengthsOf(consecutiveBatches([w(40), w(40), w(40)], cap(512))), [[40, 40, 40]]);
    assert.deepEqual(consecutiveBatches([], cap(512)), []);
  });

  it('a queue under a token budget keeps every batch within it and delivers what batch 1 delivers', async () => {
    const slots = 600;
    const cap = (longest: number) => batchCapacity(longest, budget({ maxTokens: slots }));
    const got = await runQueue(16, undefined, cap);
    for (const b of got.batches) assert.ok(b.length === 1 || b.length * Math.max(...b) <= slots, `batch ${JSON.stringify(b)} holds ${b.length * Math.max(...b)} slots`);
    // Short windows still share batches; full-length ones run alone.
    assert.ok(got.batches.some((b) => b.length >= 2));
    assert.ok(got.batches.filter((b) => b.includes(512)).every((b) => b.length === 1));
    assert.deepEqual(got.delivered, (await runQueue(1)).delivered);
  });

  it('pushReady runs in queue order: after the windows queued before it, before those after', async () => {
    const order: string[] = [];
    const q = new WindowQueue<string, number>({ batchSize: 4, run: async (ws) => ws.map((w) => w.length), deliver: (item) => order.push(item) });
    q.pushReady(() => order.push('ready first')); // nothing waits: at once
    assert.deepEqual(order, ['ready first']);
    q.push('a', [1, 2, 3]);
    q.pushReady(() => order.push('ready after a'));
    q.push('b', [1, 2, 3]);
    assert.deepEqual(order, ['ready first']);
    await q.flush(true);
    assert.deepEqual(order, ['ready first', 'a', 'ready after a', 'b']);
  });
});
