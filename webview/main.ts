/**
 * Webview entry for both the results panel and the side view (<body data-view="panel|sidebar">).
 * Handshake: say `ready`, then render each full snapshot the host sends; validate every message.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { parseHostMessage, type ViewState } from '../src/shared/protocol';
import { el } from './dom';
import { connectHost, type Host } from './host';
import { PanelView } from './panel/panelView';
import { SidebarView } from './sidebar/sidebarView';
import { observeTheme, readTheme } from './theme';
import type { View } from './view';

function start(): void {
  const app = document.getElementById('app') ?? document.body.appendChild(el('div', { id: 'app' }));
  const host = connectHost();
  const view: View = document.body.dataset.view === 'sidebar' ? new SidebarView(app, host) : new PanelView(app, host);
  let theme = readTheme();
  let state: ViewState | undefined;

  window.addEventListener('message', (event: MessageEvent) => {
    const message = parseHostMessage(event.data);
    if (!message) return;
    switch (message.type) {
      case 'snapshot':
        state = message.state;
        view.render(state, theme);
        break;
      case 'progress':
        if (state) state = { ...state, progress: message.progress };
        view.progress(message.progress);
        break;
      case 'exportCharts':
        exportCharts(view, host);
        break;
    }
  });

  observeTheme((next) => {
    theme = next;
    if (state) view.render(state, theme);
  });

  host.post({ type: 'ready' });
}

function exportCharts(view: View, host: Host): void {
  for (const { chart, caption } of view.charts()) {
    const dataUrl = chart.toPng(caption);
    if (dataUrl?.startsWith('data:image/png;base64,')) host.post({ type: 'chartImage', chart: chart.id, dataUrl });
  }
}

start();
