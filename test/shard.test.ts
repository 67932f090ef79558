/** Shards by content hash, and the shard a cluster scheduler assigns. */
import assert from 'node:assert/strict';
import { inShard, parseShard, shardFromEnvironment, ShardError } from '../src/core/dataset/shard';
import { sha256Text } from '../src/core/hash';

describe('shards', () => {
  const hashes = Array.from({ length: 400 }, (_, i) => sha256Text(`text ${i}`));

  it('every text is in exactly one of N shards, the shards about equal', () => {
    const count = 4;
    const sizes = new Array<number>(count).fill(0);
    for (const h of hashes) {
      const owners = [0, 1, 2, 3].filter((index) => inShard(h, { index, count }));
      assert.equal(owners.length, 1);
      sizes[owners[0]] += 1;
    }
    // 400 texts over 4 shards: each within 100 ± 30 (binomial sd ≈ 8.7).
    for (const s of sizes) assert.ok(s > 70 && s < 130, `shard size ${s}`);
  });

  it('a text keeps its shard whatever else is in the dataset (it depends on content only)', () => {
    const h = sha256Text('int main() {}');
    const owner = [0, 1, 2].find((index) => inShard(h, { index, count: 3 }));
    assert.equal(inShard(h, { index: owner!, count: 3 }), true);
    assert.equal(Number.parseInt(h.slice(0, 12), 16) % 3, owner);
  });

  it('parses K/N as users count (1-based) and refuses the rest', () => {
    assert.deepEqual(parseShard('2/4'), { index: 1, count: 4 });
    assert.deepEqual(parseShard('1/1'), { index: 0, count: 1 });
    for (const bad of ['0/4', '5/4', '2', 'a/b', '2/0']) assert.throws(() => parseShard(bad), ShardError);
  });

  it('reads Slurm job arrays and Kubernetes Indexed Jobs from the environment', () => {
    assert.deepEqual(shardFromEnvironment({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' }), { index: 3, count: 4 });
    assert.deepEqual(shardFromEnvironment({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '1' }), { index: 3, count: 4 });
    assert.throws(() => shardFromEnvironment({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4' }), /outside the array/);
    assert.deepEqual(shardFromEnvironment({ JOB_COMPLETION_INDEX: '2', LAYER_PROFILER_SHARD_COUNT: '5' }), { index: 2, count: 5 });
    assert.throws(() => shardFromEnvironment({ JOB_COMPLETION_INDEX: '2' }), /LAYER_PROFILER_SHARD_COUNT/);
    assert.equal(shardFromEnvironment({}), undefined);
  });
});
