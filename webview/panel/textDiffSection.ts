/**
 * The panel's two-text comparison: where the hidden states of the last compared texts part, as a
 * token × point grid of the L2 distance (the same grid drawing as the selection heatmap) and a
 * line per token across the points. Shown only while there is a comparison; it is checked first.
 */
import { describeTextDiff, describeDiffCell, textDiffGrid, textDiffLines, textDiffTable, type TextDiffGrid } from '../../src/shared/textDiffGrid';
import { parseTextDiffSelection, type TextDiffSelection } from '../../src/shared/textDiffSelection';
import type { ViewState } from '../../src/shared/protocol';
import { LayerChartView } from '../charts/layerChartView';
import { chartBox, ChartSection } from '../components/chartSection';
import { button, el } from '../dom';
import { HeatmapView } from '../heatmap/heatmapView';
import type { Host } from '../host';
import type { Theme } from '../theme';
import type { ExportItem } from '../view';

type Checkbox = HTMLElement & { checked: boolean };

export class TextDiffSection {
  readonly section: ChartSection;
  private readonly grid: HeatmapView;
  private readonly lines: LayerChartView;
  private readonly perLayer: Checkbox;
  private drawn: { source: TextDiffSelection; grid: TextDiffGrid } | undefined;
  private theme: Theme | undefined;
  /** Offered when the texts have as many tokens: activation patching needs a counterpart for every position. */
  private readonly patchRow: HTMLElement;

  constructor(host: Host) {
    this.patchRow = el(
      'div',
      { class: 'button-row', 'data-testid': 'textdiff-patch' },
      button('Patch activations (A clean, B corrupted)', () => host.command('patchCompared'), { secondary: true, key: 'textdiff-patch' }),
      el('span', { class: 'section-note' }, 'The texts have as many tokens: find which layer, at which position, carries the difference.'),
    );
    this.perLayer = el('vscode-checkbox', { label: 'Scale each layer separately', 'data-testid': 'textdiff-per-layer', 'data-focus-key': 'textdiff-per-layer' }) as Checkbox;
    this.perLayer.checked = false;
    this.perLayer.addEventListener('change', () => this.draw());
    this.grid = new HeatmapView(this.perLayer, {
      id: 'textdiff',
      describeCell: (row, col) => (this.drawn ? describeDiffCell(this.drawn.source, this.drawn.grid, row, col) : ''),
    });
    const { box, canvas } = chartBox('textdiff-lines');
    this.lines = new LayerChartView('textdiff-lines', canvas, { yTitle: 'L2 distance' });
    this.section = new ChartSection(
      {
        id: 'textdiff',
        title: 'Where do the two texts part?',
        explanation:
          'The last two compared texts (A and B): each column is a pair of aligned tokens, each row a point on the residual stream (emb: the embedding output, then after each layer). Each cell is the L2 distance between the two tokens’ hidden states, from dark purple (close) to yellow (far). Columns marked − hold a token only A has, + a token only B has; they have no distance. Below, a line per token across the layers for the pairs that part most. One pair of texts: every value is a single measurement.',
        content: el('div', { class: 'textdiff' }, this.grid.root, box),
        controls: this.patchRow,
      },
      host,
    );
    this.section.root.classList.add('wide');
    this.section.root.hidden = true;
  }

  render(state: ViewState, theme: Theme): void {
    const sel = state.textDiff === this.drawn?.source ? this.drawn?.source : parseTextDiffSelection(state.textDiff);
    this.section.root.hidden = !sel;
    this.theme = theme;
    if (!sel) {
      this.drawn = undefined;
      return;
    }
    if (this.drawn?.source !== sel) this.drawn = { source: sel, grid: textDiffGrid(sel) };
    this.patchRow.hidden = !(sel.a.tokens.length === sel.b.tokens.length && !sel.totalTokens);
    this.draw();
  }

  private draw(): void {
    const { drawn, theme } = this;
    if (!drawn || !theme) return;
    const { source, grid } = drawn;
    this.grid.render(grid, this.label(source), describeTextDiff(source, grid), theme, this.perLayer.checked);
    this.lines.render(textDiffLines(source), theme);
    this.section.setTable(() => textDiffTable(source, grid));
  }

  private label(sel: TextDiffSelection): string {
    const cut = sel.totalTokens ? ` (first ${sel.a.tokens.length} of ${sel.totalTokens.a} and ${sel.b.tokens.length} of ${sel.totalTokens.b} tokens)` : '';
    return `A: ${sel.a.label} · B: ${sel.b.label}${cut}`;
  }

  exportItems(state: ViewState): ExportItem[] {
    const sel = this.drawn?.source;
    if (!sel || this.section.root.hidden) return [];
    const lines = [`Model: ${state.results?.model.id ?? state.model.id}`, `A: ${sel.a.label} (${sel.a.tokens.length} tokens) · B: ${sel.b.label} (${sel.b.tokens.length} tokens), aligned by ${sel.alignment}`, 'One pair of texts: every value is a single measurement'];
    return [
      { chart: this.grid, caption: { title: `Where the texts part: ${this.label(sel)}`, lines: [`Each cell: L2 distance of the aligned tokens' hidden states (viridis colour scale${this.perLayer.checked ? ', each layer scaled separately' : ''})`, ...lines] } },
      { chart: this.lines, caption: { title: `L2 distance across layers: ${this.label(sel)}`, lines: [`A line per aligned token pair, for the pairs that part most`, ...lines] } },
    ];
  }
}
