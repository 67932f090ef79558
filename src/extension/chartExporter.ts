/** Saving the panel's charts as PNG: the panel renders them, the host writes the files. */
import * as vscode from 'vscode';
import type { ResultsPanel } from './resultsPanel';
import type { ViewHub } from './viewHub';

export class ChartExporter {
  private target: { folder: vscode.Uri; written: number; webview: vscode.Webview } | undefined;

  constructor(
    private readonly hub: ViewHub,
    private readonly panel: ResultsPanel,
  ) {}

  /** Asks the panel for every chart and waits until the images stop arriving. */
  async exportTo(folder: vscode.Uri): Promise<number> {
    const panel = this.panel.show();
    await this.hub.whenReady(panel.webview);
    const view = { webview: panel.webview, visible: true };
    this.target = { folder, written: 0, webview: panel.webview };
    await this.hub.send(view, { type: 'exportCharts' });
    // Wait for the first image (the panel may still be rendering), then until no more arrive.
    const target = this.target;
    const started = Date.now();
    let last = 0;
    let lastChange = Date.now();
    while (Date.now() - started < 20_000) {
      await new Promise((r) => setTimeout(r, 100));
      if (target.written !== last) (last = target.written), (lastChange = Date.now());
      if (last > 0 && Date.now() - lastChange > 1_000) break;
    }
    const written = this.target.written;
    this.target = undefined;
    return written;
  }

  async receive(chart: string, dataUrl: string, from: vscode.Webview): Promise<void> {
    if (!this.target || from !== this.target.webview) return;
    const safe = chart.replace(/[^\w-]+/g, '_');
    const bytes = Buffer.from(dataUrl.slice('data:image/png;base64,'.length), 'base64');
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(this.target.folder, `layer-profiler-${safe}.png`), bytes);
    this.target.written++;
  }
}
