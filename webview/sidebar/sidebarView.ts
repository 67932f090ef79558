/**
 * The narrow side view: model and state, the main commands, the datasets, and one compact chart
 * (abs mean per layer) as a glance; the panel has the rest. Laid out for ~250 px.
 */
import { allDatasets, layerChart } from '../../src/shared/chartData';
import type { HostCommand, RunProgress, ViewState } from '../../src/shared/protocol';
import { LayerChartView } from '../charts/layerChartView';
import { chartBox } from '../components/chartSection';
import { datasetList } from '../components/datasetList';
import { modelLine } from '../components/modelLine';
import { ProgressLine } from '../components/progressLine';
import { button, el, keepFocus } from '../dom';
import type { Host } from '../host';
import type { Theme } from '../theme';
import type { ExportItem, View } from '../view';

// Ordered so pairs of short labels share a row and long ones (`wide`) get a row of their own at ~250 px.
const COMMANDS: { command: HostCommand; label: string; needsResults?: boolean; primary?: boolean; wide?: boolean }[] = [
  { command: 'profileSelection', label: 'Profile Selection', primary: true, wide: true },
  { command: 'profileFolder', label: 'Profile Folder…' },
  { command: 'chooseModel', label: 'Choose Model…' },
  { command: 'showLayers', label: 'Show Layers', wide: true },
  { command: 'openPanel', label: 'Open Results Panel', wide: true },
  { command: 'refreshDataset', label: 'Refresh Dataset…', needsResults: true, wide: true },
  { command: 'exportResults', label: 'Export…', needsResults: true },
  { command: 'clearResults', label: 'Clear', needsResults: true },
];

export class SidebarView implements View {
  private readonly model = el('div', { class: 'side-model' });
  private readonly progressLine: ProgressLine;
  private readonly commands: { spec: (typeof COMMANDS)[number]; button: HTMLElement & { disabled?: boolean } }[];
  private readonly datasets = el('div', { class: 'side-datasets' });
  private readonly chartSection: HTMLElement;
  private readonly chart: LayerChartView;

  constructor(app: HTMLElement, private readonly host: Host) {
    this.progressLine = new ProgressLine(host);
    this.commands = COMMANDS.map((spec) => {
      const b = button(spec.label, () => host.command(spec.command), { secondary: !spec.primary, key: `cmd:${spec.command}` });
      b.dataset.command = spec.command;
      if (spec.wide) b.classList.add('wide');
      return { spec, button: b };
    });
    const { box, canvas } = chartBox('sidebar-absMean', 'chart-box-compact');
    this.chart = new LayerChartView('sidebar-absMean', canvas, { yTitle: 'Absolute mean of the layer delta', compact: true, fromZero: true });
    this.chartSection = el('section', { class: 'side-section', 'aria-labelledby': 'side-chart-heading' }, el('h2', { id: 'side-chart-heading' }, 'Absolute mean per layer'), box);
    app.replaceChildren(
      el(
        'div',
        { class: 'sidebar' },
        this.model,
        this.progressLine.root,
        el('nav', { class: 'side-commands', 'aria-label': 'Layer Profiler commands' }, ...this.commands.map((c) => c.button)),
        el('section', { class: 'side-section', 'aria-labelledby': 'side-datasets-heading' }, el('h2', { id: 'side-datasets-heading' }, 'Datasets'), this.datasets),
        this.chartSection,
      ),
    );
  }

  render(state: ViewState, theme: Theme): void {
    this.model.replaceChildren(modelLine(state.model));
    this.progressLine.update(state.progress);
    const hasResults = allDatasets(state).length > 0;
    for (const { spec, button: b } of this.commands) if (spec.needsResults) b.toggleAttribute('disabled', !hasResults);
    keepFocus(this.datasets, () => this.datasets.replaceChildren(hasResults ? datasetList(state, theme, this.host, 'list') : el('p', { class: 'side-empty' }, 'No results yet. Profile a selection or a folder.')));
    this.chartSection.hidden = !hasResults;
    if (hasResults) this.chart.render(layerChart(state, 'absMean', 'std'), theme);
  }

  progress(progress: RunProgress | undefined): void {
    this.progressLine.update(progress);
  }

  /** The panel exports the charts; the glance chart here would only duplicate one of them. */
  charts(): ExportItem[] {
    return [];
  }
}
