/** Per-text records: each profiled text's identity and its own values, kept under the summaries. */
import type { TextRecord } from '../results';
import type { TextStats } from './textStats';

export function textRecord(path: string, sha256: string, stats: TextStats): TextRecord {
  return { path, sha256, tokens: stats.tokens, windows: stats.windows, exact: stats.exact, layers: stats.layers };
}
