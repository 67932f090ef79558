/** Which profiled datasets a file belongs to: the folders they were profiled from (their `source`). */
import path from 'node:path';
import type { DatasetResult } from '../core/results';

export interface DatasetFolder {
  name: string;
  folder: string;
}

/** Datasets profiled from one folder or file (a selection has no source and cannot be refreshed). */
export function refreshableDatasets(datasets: readonly DatasetResult[]): DatasetFolder[] {
  return datasets.flatMap((d) => (d.source && !d.source.includes(', ') && path.isAbsolute(d.source) ? [{ name: d.name, folder: d.source }] : []));
}

/** The datasets whose folder holds `file`. */
export function datasetsHolding(file: string, folders: readonly DatasetFolder[]): DatasetFolder[] {
  return folders.filter((d) => {
    const rel = path.relative(d.folder, file);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  });
}
