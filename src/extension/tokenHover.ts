/**
 * The Markdown of a shaded token's hover: per layer, the absolute mean change the layer made at
 * the token (after Profile Selection) and what the layer would predict next from it (after Logit
 * Lens on Selection), in one table. No `vscode` import: unit-testable.
 */
import type { TokenProfile } from '../core/results';
import type { LensTokenPredictions } from '../shared/lensSelection';
import { displayToken } from '../shared/chartData';

/** A token as Markdown code: visible whitespace, no backticks or pipes to break the span or the table. */
export function codeToken(raw: string): string {
  return `\`${displayToken(raw).replace(/`/g, 'ˋ').replace(/\|/g, '∣')}\``;
}

export function tokenHoverMarkdown(label: string, token: string, t: number, profile: TokenProfile | undefined, lens: LensTokenPredictions | undefined): string {
  const delta = profile && t < profile.tokens.length ? profile.absMean : undefined;
  const predicted = lens && t < lens.top1.length ? lens.top1[t] : undefined;
  const head = [`**Layer Profiler** · token ${codeToken(token)} · ${label}`, ''];
  if (predicted && lens) {
    const next = lens.next[t];
    head.push(next === null ? 'What each layer would predict next (the actual next token is past the kept tokens or the selection):' : `What each layer would predict next; the actual next token is ${codeToken(next)} (✓ where a layer predicts it):`, '');
  }
  const columns = [...(delta ? ['abs mean Δ', 'relative to the layer\'s top token'] : []), ...(predicted ? ['predicts next', 'p'] : [])];
  const align = [...(delta ? ['---:', ':---'] : []), ...(predicted ? [':---', '---:'] : [])];
  const layers = predicted && lens ? lens.layers : (delta?.map((_, l) => l) ?? []);
  const rows = layers.map((layer, i) => {
    const cells: string[] = [];
    if (delta) {
      const row = delta[layer];
      if (row) {
        const max = Math.max(...row);
        cells.push(row[t].toPrecision(3), '█'.repeat(Math.round((row[t] / (max || 1)) * 12)));
      } else cells.push('', '');
    }
    if (predicted) {
      const p = predicted[i];
      cells.push(`${codeToken(p.token)}${p.correct ? ' ✓' : ''}`, p.p.toFixed(3));
    }
    const name = layer < 0 ? 'embed' : predicted && i === layers.length - 1 ? `${layer} (output)` : String(layer);
    return `| ${name} | ${cells.join(' | ')} |`;
  });
  return [...head, `| layer | ${columns.join(' | ')} |`, `|---:|${align.join('|')}|`, ...rows].join('\n');
}
