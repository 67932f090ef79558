/// <reference types="vscode-webview" />
/**
 * The webview's only channel to the extension host: typed messages out, persisted UI state.
 * `acquireVsCodeApi` may be called once per page, so everything goes through this object.
 */
import type { HostCommand, ViewMessage } from '../src/shared/protocol';
import { parseUiState, type UiState } from './uiState';

export interface Host {
  post(message: ViewMessage): void;
  command(command: HostCommand): void;
  readonly ui: UiState;
  updateUi(change: Partial<Omit<UiState, 'version'>>): void;
}

export function connectHost(): Host {
  const api = acquireVsCodeApi<UiState>();
  let ui = parseUiState(api.getState());
  return {
    post: (message) => api.postMessage(message),
    command: (command) => api.postMessage({ type: 'command', command } satisfies ViewMessage),
    get ui() {
      return ui;
    },
    updateUi(change) {
      ui = { ...ui, ...change };
      api.setState(ui);
    },
  };
}
