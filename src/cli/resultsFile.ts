/** Reading a results file named on the command line, with errors that name it. */
import { readFile } from 'node:fs/promises';
import type { ProfileResults } from '../core/results';
import { parseResults, ResultsFileError } from '../core/results/read';
import { UsageError } from './modelArg';

export async function readResultsFile(file: string): Promise<ProfileResults> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}.`);
  }
  try {
    return parseResults(text, file);
  } catch (err) {
    throw err instanceof ResultsFileError ? new UsageError(err.message) : err;
  }
}
