/**
 * Findings in plain words (core/compare/findings) at the top of the panel. The findings are
 * Markdown-flavoured lines; `**bold**` and `code` are rendered, everything else is plain text.
 */
import type { Findings } from '../../src/core/compare/findings';
import { el } from '../dom';

/** Findings arrive in a snapshot: check their shape before drawing them. */
export function isFindings(v: unknown): v is Findings {
  if (typeof v !== 'object' || v === null) return false;
  const f = v as Record<string, unknown>;
  return typeof f.method === 'string' && Array.isArray(f.sections) && f.sections.every((s: unknown) => typeof s === 'object' && s !== null && typeof (s as { heading?: unknown }).heading === 'string' && Array.isArray((s as { lines?: unknown }).lines) && (s as { lines: unknown[] }).lines.every((l) => typeof l === 'string'));
}

export function findingsView(f: Findings): HTMLElement {
  const body: HTMLElement[] = [el('p', { class: 'findings-method' }, ...inline(f.method))];
  for (const s of f.sections) {
    body.push(el('h3', {}, ...inline(s.heading)));
    let list: HTMLElement | undefined;
    for (const line of s.lines) {
      if (line.startsWith('- ')) {
        if (!list) body.push((list = el('ul', {})));
        list.append(el('li', {}, ...inline(line.slice(2))));
      } else {
        list = undefined;
        body.push(el('p', {}, ...inline(line)));
      }
    }
  }
  return el('div', { class: 'findings-body', 'data-testid': 'findings' }, ...body);
}

/** `**x**` → <strong>, `` `x` `` → <code>; text goes in as text, never as markup. */
function inline(text: string): (Node | string)[] {
  return text.split(/(\*\*[^*]+\*\*|`[^`]+`)/).filter(Boolean).map((part) => {
    if (part.startsWith('**') && part.endsWith('**')) return el('strong', {}, part.slice(2, -2));
    if (part.startsWith('`') && part.endsWith('`')) return el('code', {}, part.slice(1, -1));
    return part;
  });
}
