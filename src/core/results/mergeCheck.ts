/**
 * What stands in the way of merging two results honestly: the same text counted twice (the same
 * content in the same dataset), or settings that change the numbers. Merging such results gives
 * statistics of no real run, so the command line refuses them unless told `--force`.
 */
import type { DatasetResult, ProfileResults } from '../results';

/** `a` and `b` as the user knows them (file names) for the messages. */
export function mergeProblems(a: ProfileResults, b: ProfileResults, aName: string, bName: string): string[] {
  return [...settingsProblems(a, b, aName, bName), ...a.datasets.flatMap((d) => {
    const other = b.datasets.find((x) => x.name === d.name);
    return other ? overlapProblems(d, other, aName, bName) : [];
  })];
}

/** Settings that change per-text values: the window, the first token, the tokenizer, the weights. */
function settingsProblems(a: ProfileResults, b: ProfileResults, aName: string, bName: string): string[] {
  const problems: string[] = [];
  const differ = (what: string, x: unknown, y: unknown) => {
    if (x !== undefined && y !== undefined && x !== y) problems.push(`${what} differs: ${String(x)} in ${aName}, ${String(y)} in ${bName}`);
  };
  differ('the window (--max-tokens)', a.settings.windowTokens ?? a.settings.maxTokens, b.settings.windowTokens ?? b.settings.maxTokens);
  differ('--skip-first-token', a.settings.skipFirstToken ?? false, b.settings.skipFirstToken ?? false);
  differ('whether long texts continue through the KV cache', a.settings.windowsContinueThroughCache, b.settings.windowsContinueThroughCache);
  differ('the tokenizer (sha256)', a.model.tokenizerSha256?.slice(0, 12), b.model.tokenizerSha256?.slice(0, 12));
  differ('the dtype', a.model.dtype, b.model.dtype);
  return problems;
}

function overlapProblems(a: DatasetResult, b: DatasetResult, aName: string, bName: string): string[] {
  if (a.texts === 0 || b.texts === 0) return [];
  if (a.records.length === a.texts && b.records.length === b.texts) {
    const hashes = new Map(a.records.map((r) => [r.sha256, r.path]));
    const shared = b.records.filter((r) => hashes.has(r.sha256));
    if (shared.length === 0) return [];
    return [`dataset "${a.name}": ${shared.length} of its texts are in both ${aName} and ${bName} (same content, e.g. ${shared[0].path}); merging would count them twice`];
  }
  const noRecords = a.records.length !== a.texts ? aName : bName;
  if (a.source && a.source === b.source) return [`dataset "${a.name}" was profiled from ${a.source} in both ${aName} and ${bName}; merging would count its texts twice`];
  return [`dataset "${a.name}": ${noRecords} has no per-text records (an @1 file), so it cannot be told whether the two share texts`];
}
