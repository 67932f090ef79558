/**
 * The panel's logit lens section: what each layer would predict next at every token of the last
 * lensed selection. Shown only while there is a lens; the snapshot's lens is checked before drawing.
 */
import { describeLensGrid, lensGrid, lensTable, type LensGrid } from '../../src/shared/lensGrid';
import { parseLensSelection, type LensSelection } from '../../src/shared/lensSelection';
import type { ViewState } from '../../src/shared/protocol';
import { ChartSection } from '../components/chartSection';
import type { Host } from '../host';
import { LensView } from '../lens/lensView';
import type { Theme } from '../theme';
import type { ExportItem } from '../view';

export class LensSection {
  readonly section: ChartSection;
  private readonly view: LensView;
  /** The grid of the selection last drawn, rebuilt only when the selection changes. */
  private drawn: { source: LensSelection; grid: LensGrid } | undefined;

  constructor(host: Host) {
    this.view = new LensView(host.ui.lensShade, (lensShade) => host.updateUi({ lensShade }));
    this.section = new ChartSection(
      {
        id: 'lens',
        title: 'What would each layer predict next?',
        explanation:
          'The logit lens of the last lensed selection: each token’s residual stream after every layer, read through the model’s own final norm and head. Each cell is that layer’s most likely next token, shaded by its probability or by the entropy of the layer’s prediction; the bottom row is the model’s own output. Outlined cells predict the actual next token. Hover a cell for the top predictions; scroll sideways for long texts.',
        content: this.view.root,
      },
      host,
    );
    this.section.root.classList.add('wide');
    this.section.root.hidden = true;
  }

  render(state: ViewState, theme: Theme): void {
    const lens = state.lens === this.drawn?.source ? this.drawn?.source : parseLensSelection(state.lens);
    this.section.root.hidden = !lens;
    if (!lens) {
      this.drawn = undefined;
      return;
    }
    if (this.drawn?.source !== lens) this.drawn = { source: lens, grid: lensGrid(lens) };
    const { grid } = this.drawn;
    this.view.render(grid, this.label(lens), describeLensGrid(grid, lens.label), theme);
    this.section.setTable(() => lensTable(grid, lens.label));
  }

  private label(lens: LensSelection): string {
    return lens.totalTokens ? `${lens.label} (first ${lens.tokens.length} of ${lens.totalTokens} tokens)` : lens.label;
  }

  exportItem(state: ViewState): ExportItem | undefined {
    const lens = this.drawn?.source;
    if (!lens || this.section.root.hidden) return undefined;
    const shade = this.view.shading === 'probability' ? 'top-1 probability' : 'entropy (nats)';
    return {
      chart: this.view,
      caption: { title: `Logit lens: ${this.label(lens)}`, lines: [`Each cell: the layer's top-1 next token, shaded by ${shade} (viridis); outlined where it is the actual next token`, `Model: ${state.results?.model.id ?? state.model.id}`, `Text: ${lens.label} (${lens.tokens.length} tokens, top ${lens.k} kept per point)`] },
    };
  }
}
