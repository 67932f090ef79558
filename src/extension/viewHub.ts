/**
 * Keeps every open webview (panel, side view) in step with the state: a view that says `ready`
 * gets a full snapshot; updates go only to visible views; a view that becomes visible again gets
 * a fresh snapshot.
 */
import type * as vscode from 'vscode';
import { parseViewMessage, type HostMessage, type ViewMessage, type ViewState } from '../shared/protocol';

export interface ViewLike {
  readonly webview: vscode.Webview;
  readonly visible: boolean;
}

export class ViewHub {
  private readonly views = new Set<ViewLike>();
  private readonly ready = new WeakSet<ViewLike>();
  private readonly readyWaiters = new Map<vscode.Webview, (() => void)[]>();

  constructor(
    private readonly state: () => ViewState,
    private readonly onMessage: (m: ViewMessage, from: ViewLike) => void,
  ) {}

  /** Registers a view; returns the disposables of its listeners. */
  attach(view: ViewLike, onDidChangeVisibility: vscode.Event<unknown>): vscode.Disposable[] {
    this.views.add(view);
    return [
      view.webview.onDidReceiveMessage((raw: unknown) => {
        const m = parseViewMessage(raw);
        if (!m) return;
        if (m.type === 'ready') {
          this.ready.add(view);
          void this.send(view, { type: 'snapshot', state: this.state() });
          this.readyWaiters.get(view.webview)?.forEach((resolve) => resolve());
          this.readyWaiters.delete(view.webview);
          return;
        }
        this.onMessage(m, view);
      }),
      onDidChangeVisibility(() => {
        // Hidden webviews are torn down (no retainContextWhenHidden); shown again, they reload
        // and say `ready` anew, which brings them a fresh snapshot.
        if (!view.visible) this.ready.delete(view);
        else if (this.ready.has(view)) void this.send(view, { type: 'snapshot', state: this.state() });
      }),
    ];
  }

  /** Resolves once the page in `webview` has loaded and said `ready` (at once if it has). */
  whenReady(webview: vscode.Webview, timeoutMs = 20_000): Promise<void> {
    for (const v of this.views) if (v.webview === webview && this.ready.has(v) && v.visible) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('The results panel did not load in time.')), timeoutMs);
      const list = this.readyWaiters.get(webview) ?? [];
      list.push(() => (clearTimeout(timer), resolve()));
      this.readyWaiters.set(webview, list);
    });
  }

  detach(view: ViewLike): void {
    this.views.delete(view);
  }

  /** Sends the current state to every visible, ready view. */
  refresh(): void {
    const state = this.state();
    for (const v of this.views) if (v.visible && this.ready.has(v)) void this.send(v, { type: 'snapshot', state });
  }

  send(view: ViewLike, message: HostMessage): Thenable<boolean> {
    return view.webview.postMessage(message);
  }
}
