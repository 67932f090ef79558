/**
 * The texts behind one layer's value: per dataset, the highest and lowest, each a link that asks
 * the host to open the file (a selection's text is shown by its label and opens nothing).
 */
import { formatValue } from '../../src/shared/chartText';
import { DRILL_METRICS, shortPath, type DrillDataset, type DrillDown, type DrillText } from '../../src/shared/drillDown';
import { button, el } from '../dom';
import type { Host } from '../host';
import { seriesColor, type Theme } from '../theme';

export function drillDownView(drill: DrillDown, theme: Theme, host: Host, onClose: () => void): HTMLElement {
  const metric = DRILL_METRICS[drill.metric].label;
  return el(
    'div',
    { class: 'drill', 'data-testid': 'drill', 'data-layer': drill.layer, role: 'region', 'aria-label': `Texts at layer ${drill.layer}` },
    el('div', { class: 'drill-head' }, el('h3', {}, `Layer ${drill.layer}: which texts give it its ${metric}?`), button('Close', onClose, { secondary: true, key: 'drill-close', ariaLabel: 'Close the list of texts' })),
    el('div', { class: 'drill-datasets' }, ...drill.datasets.map((d) => datasetPart(d, drill, theme, host))),
  );
}

function datasetPart(d: DrillDataset, drill: DrillDown, theme: Theme, host: Host): HTMLElement {
  const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
  swatch.style.backgroundColor = seriesColor(theme, d.colorIndex);
  const head = el('h4', {}, swatch, `${d.name} `, el('span', { class: 'dataset-meta' }, `${d.n} text${d.n === 1 ? '' : 's'}`));
  if (d.reason) return el('div', { class: 'drill-dataset', 'data-dataset': d.name }, head, el('p', { class: 'section-note' }, d.reason));
  const lists: HTMLElement[] = [];
  if (d.lowest.length === 0) lists.push(list('All texts, highest first', d.highest, d.name, host));
  else lists.push(list('Highest', d.highest, d.name, host), list('Lowest', d.lowest, d.name, host));
  return el('div', { class: 'drill-dataset', 'data-dataset': d.name, 'data-testid': `drill-${d.name}` }, head, ...lists);
}

function list(title: string, texts: DrillText[], dataset: string, host: Host): HTMLElement {
  return el(
    'div',
    { class: 'drill-list' },
    el('h5', {}, title),
    el(
      'ol',
      {},
      ...texts.map((t) => {
        const value = el('span', { class: 'drill-value' }, formatValue(t.value));
        const name = t.opens ? textLink(t, dataset, host) : el('span', { class: 'drill-label', title: t.path }, t.path);
        return el('li', {}, value, el('span', { class: 'drill-text' }, name, el('span', { class: 'dataset-meta' }, ` · ${t.tokens} tokens`)));
      }),
    ),
  );
}

function textLink(t: DrillText, dataset: string, host: Host): HTMLElement {
  const a = el('a', { href: '#', class: 'drill-link', title: `Open ${t.path}`, 'data-path': t.path }, shortPath(t.path));
  a.addEventListener('click', (e) => {
    e.preventDefault();
    host.post({ type: 'openText', dataset, path: t.path });
  });
  return a;
}
