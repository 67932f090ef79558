/** The texts of a dataset input, each read on demand: given texts first, then the files of its folders. */
import { stat } from 'node:fs/promises';
import { DEFAULT_MAX_FILE_BYTES, type DatasetInput } from '../api';
import type { SkippedFile } from '../results';
import { collectFiles, readTextFile, type ReadResult } from './collect';

export interface TextSource {
  label: string;
  /** Size in bytes (for the time-left estimate; 0 when unknown or too large to read). */
  bytes: number;
  read: () => Promise<ReadResult>;
}

interface Walk {
  sources: TextSource[];
  skipped: SkippedFile[];
}

/** Inputs marked by walkedOnce, with their walk once it has started. */
const walks = new WeakMap<DatasetInput, Promise<Walk> | undefined>();

/**
 * Marks an input whose folders are walked once for as long as it lives: the command line estimates
 * a run's passes, checks the record cache and profiles, three readers of one listing, and a walk
 * of 100,000 files takes seconds. The listing is the folder as it was at the first walk (a file
 * added later in the run is not seen); each file's contents are still read when its text runs.
 */
export function walkedOnce<T extends DatasetInput>(input: T): T {
  walks.set(input, undefined);
  return input;
}

/** Walks the input's folders (files that cannot be read go to `skipped`, with the reason). */
export async function datasetSources(input: DatasetInput, skipped: SkippedFile[]): Promise<TextSource[]> {
  if (!walks.has(input)) return walkInput(input, skipped);
  let walk = walks.get(input);
  if (!walk) {
    const own: SkippedFile[] = [];
    walk = walkInput(input, own).then((sources) => ({ sources, skipped: own }));
    walks.set(input, walk);
  }
  const done = await walk;
  skipped.push(...done.skipped);
  // Copies: a reader may reorder or filter its own.
  return [...done.sources];
}

async function walkInput(input: DatasetInput, skipped: SkippedFile[]): Promise<TextSource[]> {
  const sources: TextSource[] = [];
  for (const t of input.texts ?? []) sources.push({ label: t.label, bytes: Buffer.byteLength(t.text), read: async () => (t.text.trim() ? { ok: true, text: t.text } : { ok: false, reason: 'empty text' }) });
  if (input.paths?.length) {
    const maxFileBytes = input.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    const { files, skipped: walkSkipped } = await collectFiles(input.paths, { include: input.include, exclude: input.exclude, maxFileBytes });
    skipped.push(...walkSkipped);
    for (const f of files) {
      const bytes = await stat(f.path).then((st) => (st.size <= maxFileBytes ? st.size : 0), () => 0);
      sources.push({ label: f.path, bytes, read: () => readTextFile(f.path, maxFileBytes) });
    }
  }
  return sources;
}
