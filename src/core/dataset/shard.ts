/**
 * Shards: a deterministic 1/N of every dataset's texts, chosen by content hash, so a text stays in
 * its shard when files are added, renamed or moved, and the shards' results merge exactly (merge
 * refuses a text counted twice). The shard can come from a cluster scheduler's environment:
 * a Slurm job array or a Kubernetes Indexed Job.
 */

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

export class ShardError extends Error {}

/** Whether the text with this content hash belongs to `shard`. */
export function inShard(sha256: string, shard: Shard | undefined): boolean {
  if (!shard || shard.count <= 1) return true;
  // The first 48 bits of the hash: uniform, and exact in a double.
  return Number.parseInt(sha256.slice(0, 12), 16) % shard.count === shard.index;
}

/** `K/N` with 1 ≤ K ≤ N, as users count shards. */
export function parseShard(arg: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(arg.trim());
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || k < 1 || k > n) throw new ShardError(`'${arg}' is not a shard: give K/N with 1 ≤ K ≤ N, e.g. --shard 2/4 for the second of four.`);
  return { index: k - 1, count: n };
}

/**
 * The shard a cluster scheduler assigned, if any: Slurm job arrays (SLURM_ARRAY_TASK_ID counted
 * from SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT tasks) or Kubernetes Indexed Jobs
 * (JOB_COMPLETION_INDEX, with the count in LAYER_PROFILER_SHARD_COUNT, since Kubernetes does not
 * pass the completions to the pod).
 */
export function shardFromEnvironment(env: NodeJS.ProcessEnv): Shard | undefined {
  const int = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
  const slurmId = int(env.SLURM_ARRAY_TASK_ID);
  const slurmCount = int(env.SLURM_ARRAY_TASK_COUNT);
  if (slurmId !== undefined && slurmCount !== undefined) {
    const index = slurmId - (int(env.SLURM_ARRAY_TASK_MIN) ?? 0);
    if (index < 0 || index >= slurmCount) throw new ShardError(`Slurm array task ${slurmId} is outside the array's ${slurmCount} tasks (from ${env.SLURM_ARRAY_TASK_MIN ?? 0}); give the array as --array=0-${slurmCount - 1} or --array=1-${slurmCount}.`);
    return { index, count: slurmCount };
  }
  const k8sIndex = int(env.JOB_COMPLETION_INDEX);
  if (k8sIndex !== undefined) {
    const count = int(env.LAYER_PROFILER_SHARD_COUNT);
    if (count === undefined) throw new ShardError('JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but LAYER_PROFILER_SHARD_COUNT is not: set it to the Job\'s completions.');
    if (k8sIndex >= count) throw new ShardError(`JOB_COMPLETION_INDEX ${k8sIndex} is not below LAYER_PROFILER_SHARD_COUNT ${count}.`);
    return { index: k8sIndex, count };
  }
  return undefined;
}
