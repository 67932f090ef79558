/** The two datasets the difference chart compares: A and B, each a dropdown of visible datasets. */
import { pickComparison, type ComparisonPair } from '../../shared/chartData';
import { el } from '../dom';
import type { Host } from '../host';

type Select = HTMLElement & { value: string };

export class ComparisonPicker {
  readonly root: HTMLElement;
  private readonly a: Select;
  private readonly b: Select;
  private optionsKey = '';
  private pair: ComparisonPair | undefined;

  constructor(private readonly host: Host) {
    this.a = this.select('a');
    this.b = this.select('b');
    this.root = el(
      'div',
      { class: 'comparison', 'data-testid': 'comparison' },
      el('vscode-label', { for: 'compare-a' }, 'Dataset A'),
      this.a,
      el('span', { class: 'comparison-minus', 'aria-hidden': 'true' }, '−'),
      el('vscode-label', { for: 'compare-b' }, 'Dataset B'),
      this.b,
    );
  }

  private select(side: 'a' | 'b'): Select {
    const s = el('vscode-single-select', { id: `compare-${side}`, 'data-testid': `compare-${side}`, 'data-focus-key': `compare-${side}`, label: side === 'a' ? 'Dataset A' : 'Dataset B' }) as Select;
    s.addEventListener('change', () => {
      if (!this.pair || s.value === this.pair[side]) return;
      const next = pickComparison(this.pair, side, s.value);
      this.pair = next;
      this.setValues(next);
      this.host.post({ type: 'setComparison', a: next.a, b: next.b });
    });
    return s;
  }

  update(names: string[], pair: ComparisonPair | undefined): void {
    this.pair = pair;
    this.root.hidden = !pair;
    if (!pair) return;
    const key = JSON.stringify(names);
    if (key !== this.optionsKey) {
      // Options are rebuilt only when the datasets change, so an open dropdown is not disturbed by progress.
      this.optionsKey = key;
      this.a.replaceChildren(...names.map((n) => option(n, n === pair.a)));
      this.b.replaceChildren(...names.map((n) => option(n, n === pair.b)));
    }
    this.setValues(pair);
  }

  private setValues(pair: ComparisonPair): void {
    if (this.a.value !== pair.a) this.a.value = pair.a;
    if (this.b.value !== pair.b) this.b.value = pair.b;
  }
}

function option(name: string, selected: boolean): HTMLElement {
  return el('vscode-option', { value: name, selected }, name);
}
