/**
 * The panel's activation patching: which layer, at which position, carries the difference between
 * the clean and the corrupted text. The metric is explained in words (its target and foil tokens,
 * its value on both runs), then one grid per patched point kind. Shown only while there is a run.
 */
import { describeMetric, describePatchCell, describePatchGrid, patchGrids, patchTable, POINT_TITLES, type PatchGridView } from '../../src/shared/patchGrid';
import { parsePatchSelection, type PatchSelection } from '../../src/shared/patchSelection';
import type { ViewState } from '../../src/shared/protocol';
import { ChartSection } from '../components/chartSection';
import { el } from '../dom';
import type { Host } from '../host';
import { PatchGridCanvas } from '../patch/patchGridView';
import type { Theme } from '../theme';
import type { ExportItem } from '../view';

export class PatchSection {
  readonly section: ChartSection;
  private readonly body = el('div', { class: 'patch', 'data-testid': 'patch' });
  private views = new Map<string, { canvas: PatchGridCanvas; title: HTMLElement }>();
  private drawn: { source: PatchSelection; grids: PatchGridView[] } | undefined;

  constructor(host: Host) {
    this.section = new ChartSection(
      {
        id: 'patch',
        title: 'Which layers carry the difference? (activation patching)',
        explanation:
          'The corrupted text run again with one layer’s state at one position replaced by the clean run’s, for every layer and position. Each cell is the normalised effect on the metric below: 0 (neutral) means the patch changed nothing, 1 means it restored the clean run’s metric; red above 0, blue below. Hover a cell for the exact effect. One pair of texts: every value is a single measurement.',
        content: this.body,
      },
      host,
    );
    this.section.root.classList.add('wide');
    this.section.root.hidden = true;
  }

  render(state: ViewState, theme: Theme): void {
    const sel = state.patch === this.drawn?.source ? this.drawn?.source : parsePatchSelection(state.patch);
    this.section.root.hidden = !sel;
    if (!sel) {
      this.drawn = undefined;
      return;
    }
    if (this.drawn?.source !== sel) this.drawn = { source: sel, grids: patchGrids(sel) };
    const { grids } = this.drawn;
    const texts = el(
      'p',
      { class: 'patch-texts', 'data-testid': 'patch-texts' },
      el('strong', {}, 'Clean: '),
      `${sel.clean.label}`,
      ' · ',
      el('strong', {}, 'Corrupted: '),
      `${sel.corrupted.label} (${sel.corrupted.ids.length} tokens; positions where the texts differ are labelled clean→corrupted, in bold)`,
    );
    const metric = el('p', { class: 'patch-metric', 'data-testid': 'patch-metric' }, describeMetric(sel));
    const notes = sel.notes.map((n) => el('p', { class: 'section-note' }, n));
    const blocks = grids.map((g) => {
      let view = this.views.get(g.point);
      if (!view) {
        view = { canvas: new PatchGridCanvas(g.point, (grid, row, col) => describePatchCell(sel, grid, row, col)), title: el('h3', { class: 'patch-title' }) };
        this.views.set(g.point, view);
      }
      view.title.textContent = POINT_TITLES[g.point];
      view.canvas.render(g, describePatchGrid(sel, g), theme);
      return el('div', { class: 'patch-block' }, view.title, view.canvas.root);
    });
    this.body.replaceChildren(texts, metric, ...notes, ...blocks);
    this.section.setTable(() => patchTable(sel, grids));
  }

  exportItems(state: ViewState): ExportItem[] {
    const sel = this.drawn?.source;
    if (!sel || this.section.root.hidden) return [];
    return this.drawn!.grids.map((g) => ({
      chart: this.views.get(g.point)!.canvas,
      caption: { title: `Activation patching, ${POINT_TITLES[g.point]}`, lines: [describeMetric(sel), `Model: ${state.results?.model.id ?? state.model.id}`, `Clean: ${sel.clean.label} · Corrupted: ${sel.corrupted.label} (${sel.corrupted.ids.length} tokens); one pair of texts, single measurements`] },
    }));
  }
}
