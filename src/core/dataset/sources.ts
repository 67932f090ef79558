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

/** Walks the input's folders (files that cannot be read go to `skipped`, with the reason). */
export async function datasetSources(input: DatasetInput, skipped: SkippedFile[]): Promise<TextSource[]> {
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
