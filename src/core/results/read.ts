/**
 * Reading results files: the current schema as it is, and @1 files (before per-text records)
 * brought up to it, so every earlier result stays usable.
 */
import { RESULTS_SCHEMA, RESULTS_SCHEMA_V1, type DatasetResult, type ProfileResults } from '../results';
import { resultsProblems } from './validate';

export class ResultsFileError extends Error {}

/** Parses a results file's text; `file` names it in errors. */
export function parseResults(text: string, file: string): ProfileResults {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ResultsFileError(`${file} is not JSON; give a results file written by profile --json or merge.`);
  }
  const r = parsed as { schema?: unknown; datasets?: unknown; model?: unknown } | null;
  if (!r || typeof r !== 'object' || (r.schema !== RESULTS_SCHEMA && r.schema !== RESULTS_SCHEMA_V1) || !Array.isArray(r.datasets) || !r.model) {
    const found = r && typeof r === 'object' && typeof r.schema === 'string' ? ` (it says "${r.schema}")` : '';
    throw new ResultsFileError(`${file} is not a Layer Profiler results file${found}: expected "schema": "${RESULTS_SCHEMA}" or "${RESULTS_SCHEMA_V1}".`);
  }
  const problems = resultsProblems(parsed, r.schema);
  if (problems.length) throw new ResultsFileError(`${file} is not a valid results file: ${problems.join('; ')}.`);
  return upgradeResults(parsed as ProfileResults);
}

/** @1 results (no per-text records) in the current shape; current results unchanged. */
export function upgradeResults(r: ProfileResults): ProfileResults {
  return { ...r, schema: RESULTS_SCHEMA, datasets: r.datasets.map(upgradeDataset) };
}

export function upgradeDataset(d: DatasetResult): DatasetResult {
  return Array.isArray(d.records) ? d : { ...d, records: [] };
}
