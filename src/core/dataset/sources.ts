/** The texts of a dataset input, each read on demand: given texts first, then the files of its folders. */
import { DEFAULT_MAX_FILE_BYTES, type DatasetInput } from '../api';
import type { SkippedFile } from '../results';
import { collectFiles, readTextFile, type ReadResult } from './collect';

export interface TextSource {
  label: string;
  read: () => Promise<ReadResult>;
}

/** Walks the input's folders (files that cannot be read go to `skipped`, with the reason). */
export async function datasetSources(input: DatasetInput, skipped: SkippedFile[]): Promise<TextSource[]> {
  const sources: TextSource[] = [];
  for (const t of input.texts ?? []) sources.push({ label: t.label, read: async () => (t.text.trim() ? { ok: true, text: t.text } : { ok: false, reason: 'empty text' }) });
  if (input.paths?.length) {
    const maxFileBytes = input.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    const { files, skipped: walkSkipped } = await collectFiles(input.paths, { include: input.include, exclude: input.exclude, maxFileBytes });
    skipped.push(...walkSkipped);
    for (const f of files) sources.push({ label: f.path, read: () => readTextFile(f.path, maxFileBytes) });
  }
  return sources;
}
