/**
 * A persistent cache of per-text records, so a re-run profiles only texts that are new or
 * changed. Records live under a namespace per (model, tokenizer, config, every setting that
 * changes numbers, runtime and tool version), one file per text content hash; a namespace also
 * keeps what a run needs to write results without loading the model (model and runtime facts, the
 * effective settings). Files are written to a temporary name and renamed, so concurrent runs never
 * see half a record; reads touch a file's time so eviction drops the least recently used first.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ModelInfo, ProfileSettings, RuntimeInfo, SubstepKind, TextRecord } from '../results';

/** Everything that changes a text's numbers, apart from its content. */
export interface CacheKey {
  modelSha256: string;
  tokenizerSha256?: string;
  configSha256?: string;
  maxTokens: number;
  skipFirstToken: boolean;
  graphOptimizationLevel: string;
  /** ORT's intra-op threads (see cachedRun.ts NumericSettings). */
  threads?: number;
  onnxruntime: string;
  tool: string;
}

/** What a fully cached run needs to write its results without loading the model. */
export interface CachedModelFacts {
  model: ModelInfo;
  runtime: RuntimeInfo;
  settings: Pick<ProfileSettings, 'maxTokens' | 'windowTokens' | 'windowsContinueThroughCache' | 'positionLimit' | 'batchSize' | 'skipFirstToken'>;
  substepKinds: SubstepKind[];
}

/** A record without the path: the same content at another path is the same record. */
type StoredRecord = Omit<TextRecord, 'path'>;

export const DEFAULT_RECORD_CACHE_BYTES = 512 * 1024 * 1024;

/** The record cache's folder: $LAYER_PROFILER_RECORD_CACHE (`off` turns the cache off), else ~/.cache/layer-profiler/records. */
export function defaultRecordCacheDir(): string | undefined {
  const env = process.env.LAYER_PROFILER_RECORD_CACHE;
  if (env === 'off') return undefined;
  return env || path.join(os.homedir(), '.cache', 'layer-profiler', 'records');
}

export class RecordCache {
  /** This key's namespace inside the cache folder. */
  private readonly dir: string;
  /** Texts answered from the cache, and records stored, since this cache was opened. */
  hits = 0;
  stored = 0;

  constructor(
    private readonly root: string,
    key: CacheKey,
    private readonly maxBytes = DEFAULT_RECORD_CACHE_BYTES,
  ) {
    this.dir = path.join(root, createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32));
  }

  private recordFile(sha256: string): string {
    return path.join(this.dir, sha256.slice(0, 2), `${sha256}.json`);
  }

  /** The record of a text with this content, if an earlier run profiled it with the same key. */
  async get(textPath: string, sha256: string): Promise<TextRecord | undefined> {
    const file = this.recordFile(sha256);
    try {
      const stored = JSON.parse(await readFile(file, 'utf8')) as StoredRecord;
      if (stored.sha256 !== sha256 || !Array.isArray(stored.layers)) return undefined;
      const now = new Date();
      await utimes(file, now, now).catch(() => undefined);
      this.hits += 1;
      return { path: textPath, ...stored };
    } catch {
      return undefined;
    }
  }

  async put(record: TextRecord): Promise<void> {
    const { path: _unused, ...stored } = record;
    void _unused;
    await atomicWrite(this.recordFile(record.sha256), JSON.stringify(stored));
    this.stored += 1;
  }

  async facts(): Promise<CachedModelFacts | undefined> {
    try {
      return JSON.parse(await readFile(path.join(this.dir, 'facts.json'), 'utf8')) as CachedModelFacts;
    } catch {
      return undefined;
    }
  }

  async putFacts(facts: CachedModelFacts): Promise<void> {
    await atomicWrite(path.join(this.dir, 'facts.json'), JSON.stringify(facts));
  }

  /** Removes the least recently used records until the whole cache fits its size cap. */
  async evict(): Promise<{ removed: number; bytes: number }> {
    const files = await listRecordFiles(this.root);
    let total = files.reduce((n, f) => n + f.size, 0);
    let removed = 0;
    for (const f of files.sort((a, b) => a.mtimeMs - b.mtimeMs)) {
      if (total <= this.maxBytes) break;
      await rm(f.path, { force: true });
      total -= f.size;
      removed += 1;
    }
    return { removed, bytes: total };
  }
}

async function atomicWrite(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, file);
}

async function listRecordFiles(root: string): Promise<{ path: string; size: number; mtimeMs: number }[]> {
  const out: { path: string; size: number; mtimeMs: number }[] = [];
  const walk = async (dir: string) => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile() && e.name.endsWith('.json') && e.name !== 'facts.json') {
        const s = await stat(full).catch(() => undefined);
        if (s) out.push({ path: full, size: s.size, mtimeMs: s.mtimeMs });
      }
    }
  };
  await walk(root);
  return out;
}
