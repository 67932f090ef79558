/** Paced garbage collection: one collection per budget of token slots, none before. */
import assert from 'node:assert/strict';
import { GarbagePacer } from '../src/core/runtime/garbage';

describe('garbage pacer', () => {
  it('collects once each time the passes add up to the budget, and tolerates no collector', () => {
    let collections = 0;
    const pacer = new GarbagePacer(1000, () => () => collections++);
    pacer.ran(400);
    pacer.ran(500);
    assert.equal(collections, 0);
    pacer.ran(100); // 1000 slots
    assert.equal(collections, 1);
    pacer.ran(999);
    assert.equal(collections, 1);
    pacer.ran(2500); // one pass over the budget: one collection, the count starts again
    assert.equal(collections, 2);
    pacer.ran(999);
    assert.equal(collections, 2);
    const none = new GarbagePacer(10, () => null);
    none.ran(50);
  });
});
