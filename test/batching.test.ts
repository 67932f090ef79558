/** Grouping windows of similar length into batches: less padding, results in queue order. */
import assert from 'node:assert/strict';
import { chooseBatch, WindowQueue } from '../src/core/batching';

const lengths = [500, 12, 480, 30, 510, 25, 490, 8, 300, 310, 305, 20, 7, 512, 499, 11, 260];
const windows = lengths.map((n, i) => Array.from({ length: n }, (_, t) => i * 1000 + t));

async function runQueue(batchSize: number, lookAhead?: number) {
  const batches: number[][] = [];
  const delivered: { item: number; values: number }[] = [];
  const q = new WindowQueue<number, number>({
    batchSize,
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
});
