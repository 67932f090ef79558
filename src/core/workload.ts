/**
 * The work a job will give its session, estimated before the model opens: it decides whether the
 * session prepacks its weights (runtime/prepack.ts), which costs more than a short job runs.
 */
import type { DatasetInput, ProfileOptions } from './api';
import { DEFAULT_MAX_BATCH_TOKENS } from './batching';
import { datasetSources } from './dataset/sources';
import { expectedPasses, type Workload } from './runtime/prepack';

/** Texts and bytes of the inputs (unreadable files count as none; a shard, as its share). */
export async function datasetWorkload(inputs: DatasetInput[]): Promise<Workload> {
  let texts = 0;
  let bytes = 0;
  for (const input of inputs) {
    const sources = await datasetSources(input, []);
    // Which texts fall in a shard is known only from their contents; each shard holds about its share.
    const share = input.shard ? 1 / input.shard.count : 1;
    texts += sources.length * share;
    bytes += sources.reduce((n, s) => n + s.bytes, 0) * share;
  }
  return { texts: Math.ceil(texts), bytes: Math.ceil(bytes) };
}

/** Forward passes a run over these inputs takes at most, with these batch options. */
export async function datasetPasses(inputs: DatasetInput[], opts: PassOptions): Promise<number> {
  return expectedPasses(await datasetWorkload(inputs), batchOf(opts));
}

/** Forward passes for texts given whole (a selection, two texts to compare), one window each or more. */
export function textPasses(texts: string[], opts: PassOptions): number {
  return expectedPasses({ texts: texts.length, bytes: texts.reduce((n, t) => n + Buffer.byteLength(t), 0) }, batchOf(opts));
}

type PassOptions = Pick<ProfileOptions, 'batchSize' | 'maxBatchTokens' | 'maxTokens'>;

const batchOf = (opts: PassOptions) => ({ batchSize: opts.batchSize, maxBatchTokens: opts.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS, maxTokens: opts.maxTokens });
