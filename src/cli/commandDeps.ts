/** What an analysis subcommand gets from the program: model loading options, output writing, cancellation, provenance. */
import type { LoadOptions } from '../core/api';
import type { WriteOutput } from './compareCommand';

export interface AnalysisCommandDeps<O> {
  loadOptions: (o: O, quiet: boolean) => LoadOptions;
  writeOutput: WriteOutput;
  signal: AbortSignal;
  commandArgs: string[];
}
