/**
 * Incremental re-runs: the record cache's key computed from the files a run would read (without
 * loading the model), and a dataset assembled wholly from cached records when every text hits.
 */
import * as ort from 'onnxruntime-node';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetInput, LoadOptions, ModelSpec } from '../api';
import { inShard } from '../dataset/shard';
import { datasetSources } from '../dataset/sources';
import { datasetFromRecords } from '../stats/fromRecords';
import { sha256Text } from '../hash';
import { resolveModel } from '../modelLoading';
import { fileSha256 } from '../onnx/fileHash';
import type { DatasetResult, SkippedFile, TextRecord } from '../results';
import { TOOL_NAME, TOOL_VERSION } from '../version';
import { RecordCache, type CacheKey, type CachedModelFacts } from './recordCache';

/** Settings of a run that change its numbers. */
export interface NumericSettings {
  maxTokens: number;
  skipFirstToken: boolean;
  graphOptimizationLevel: string;
  /**
   * ONNX Runtime's intra-op threads, as resolved (runtime/cores.ts): how a GEMM or reduction is
   * split changes the last bits of the statistics (measured: 8 of 192 per-layer values of 24 texts
   * differ between 1 and 2 threads, by at most 3.4e-8 relative), so a cached record is served
   * only to runs on as many threads as made it.
   */
  threads: number;
}

/**
 * Opens the cache for a model and settings: hashes the model, tokenizer and config files (no ONNX
 * Runtime session). The model's hash is remembered, so loading it afterwards does not hash it again.
 */
export async function openRecordCache(root: string, spec: ModelSpec, opts: LoadOptions, settings: NumericSettings, maxBytes?: number): Promise<RecordCache> {
  const resolved = await resolveModel(spec, opts);
  const tokenizerFile = resolved.tokenizer ? (resolved.tokenizer.endsWith('.json') ? resolved.tokenizer : path.join(resolved.tokenizer, 'tokenizer.json')) : path.join(resolved.folder, 'tokenizer.json');
  const key: CacheKey = {
    modelSha256: await fileSha256(path.join(resolved.folder, resolved.onnxFile)),
    tokenizerSha256: await hashTextFile(tokenizerFile),
    configSha256: resolved.config?.sha256,
    maxTokens: settings.maxTokens,
    skipFirstToken: settings.skipFirstToken,
    graphOptimizationLevel: settings.graphOptimizationLevel,
    threads: settings.threads,
    onnxruntime: ort.env.versions.node ?? ort.env.versions.common,
    tool: `${TOOL_NAME} ${TOOL_VERSION}`,
  };
  return new RecordCache(root, key, maxBytes);
}

async function hashTextFile(file: string): Promise<string | undefined> {
  try {
    return sha256Text(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The dataset from cached records alone, or undefined when any text of it is new or changed (then
 * the model must run). Files are read and hashed, never tokenized.
 */
export async function datasetFromCache(input: DatasetInput, cache: RecordCache, facts: CachedModelFacts): Promise<DatasetResult | undefined> {
  const skipped: SkippedFile[] = [];
  const sources = await datasetSources(input, skipped);
  const records: TextRecord[] = [];
  for (const source of sources) {
    const text = await source.read();
    if (!text.ok) {
      skipped.push({ path: source.label, reason: text.reason });
      continue;
    }
    const sha256 = sha256Text(text.text);
    if (!inShard(sha256, input.shard)) continue;
    const record = await cache.get(source.label, sha256);
    if (!record) return undefined;
    records.push(record);
  }
  return datasetFromRecords(input.name, records, { ...(input.paths?.length ? { source: input.paths.join(', ') } : {}), skipped, substepKinds: facts.substepKinds, numLayers: facts.model.numLayers });
}

/** Every dataset from cached records, with the facts to write results; undefined when any text must run. */
export async function allFromCache(inputs: DatasetInput[], cache: RecordCache): Promise<{ datasets: DatasetResult[]; facts: CachedModelFacts } | undefined> {
  const facts = await cache.facts();
  if (!facts) return undefined;
  const datasets: DatasetResult[] = [];
  for (const input of inputs) {
    const d = await datasetFromCache(input, cache, facts);
    if (!d) return undefined;
    datasets.push(d);
  }
  return { datasets, facts };
}
