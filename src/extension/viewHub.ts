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
          void this.post(view, { type: 'snapshot', state: this.state() });
          return;
        }
        this.onMessage(m, view);
      }),
      onDidChangeVisibility(() => {
        if (view.visible && this.ready.has(view)) void this.post(view, { type: 'snapshot', state: this.state() });
      }),
    ];
  }

  detach(view: ViewLike): void {
    this.views.delete(view);
  }

  /** Sends the current state to every visible, ready view. */
  refresh(): void {
    const state = this.state();
    for (const v of this.views) if (v.visible && this.ready.has(v)) void this.post(v, { type: 'snapshot', state });
  }

  send(view: ViewLike, message: HostMessage): Thenable<boolean> {
    return this.post(view, message);
  }

  private post(view: ViewLike, message: HostMessage): Thenable<boolean> {
    return view.webview.postMessage(message);
  }
}
