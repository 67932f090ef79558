/**
 * Messages between the extension host and its webviews (results panel, side view). One union type
 * per direction; both sides validate what arrives. The host always answers `ready` with a full
 * snapshot, so a view that (re)appears never shows stale state.
 */
import type { ProfileResults, TokenProfile } from '../core/results';

export const PROTOCOL_VERSION = 1;

export type ModelState = 'idle' | 'loading' | 'ready' | 'error';

export interface ModelStatus {
  id: string;
  dtype?: string;
  numLayers?: number;
  state: ModelState;
  message?: string;
  /** Shown in place of the state's label while a run is in progress (e.g. "Profiling…"). */
  activity?: string;
}

export interface RunProgress {
  title: string;
  textsDone: number;
  textsTotal: number;
  tokensDone: number;
  /** Estimated seconds left, when known. */
  secondsLeft?: number;
}

/** Per-token view of the last profiled selection. */
export interface SelectionHeatmap {
  label: string;
  profile: TokenProfile;
}

export interface ViewState {
  version: typeof PROTOCOL_VERSION;
  model: ModelStatus;
  /** Results of the current model (results of other models are kept apart, never mixed). */
  results?: ProfileResults;
  /** Dataset names hidden from the charts. */
  hidden: string[];
  heatmap?: SelectionHeatmap;
  /** The two datasets compared in the difference chart. */
  comparison?: { a: string; b: string };
  progress?: RunProgress;
}

export type HostCommand = 'profileSelection' | 'profileFolder' | 'chooseModel' | 'showLayers' | 'exportResults' | 'clearResults' | 'cancel' | 'openPanel';

export const HOST_COMMANDS: readonly HostCommand[] = ['profileSelection', 'profileFolder', 'chooseModel', 'showLayers', 'exportResults', 'clearResults', 'cancel', 'openPanel'];

/** Webview → host. */
export type ViewMessage =
  | { type: 'ready' }
  | { type: 'command'; command: HostCommand }
  | { type: 'toggleDataset'; name: string; visible: boolean }
  | { type: 'renameDataset'; name: string }
  | { type: 'removeDataset'; name: string }
  | { type: 'setComparison'; a: string; b: string }
  /** A chart rendered to PNG (data URL) for the host to save. */
  | { type: 'chartImage'; chart: string; dataUrl: string };

/** Host → webview. */
export type HostMessage =
  | { type: 'snapshot'; state: ViewState }
  | { type: 'progress'; progress: RunProgress | undefined }
  /** Ask the panel to render every chart to PNG and send them back as `chartImage`. */
  | { type: 'exportCharts' };

const isString = (v: unknown): v is string => typeof v === 'string';
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Validates a message from a webview; anything malformed is rejected, not trusted. */
export function parseViewMessage(raw: unknown): ViewMessage | undefined {
  if (!isObject(raw) || !isString(raw.type)) return undefined;
  switch (raw.type) {
    case 'ready':
      return { type: 'ready' };
    case 'command':
      return isString(raw.command) && (HOST_COMMANDS as readonly string[]).includes(raw.command) ? { type: 'command', command: raw.command as HostCommand } : undefined;
    case 'toggleDataset':
      return isString(raw.name) && typeof raw.visible === 'boolean' ? { type: 'toggleDataset', name: raw.name, visible: raw.visible } : undefined;
    case 'renameDataset':
    case 'removeDataset':
      return isString(raw.name) ? { type: raw.type, name: raw.name } : undefined;
    case 'setComparison':
      return isString(raw.a) && isString(raw.b) ? { type: 'setComparison', a: raw.a, b: raw.b } : undefined;
    case 'chartImage':
      return isString(raw.chart) && isString(raw.dataUrl) && raw.dataUrl.startsWith('data:image/png;base64,') ? { type: 'chartImage', chart: raw.chart, dataUrl: raw.dataUrl } : undefined;
    default:
      return undefined;
  }
}

/** Validates a message from the host (the webview trusts nothing it cannot check). */
export function parseHostMessage(raw: unknown): HostMessage | undefined {
  if (!isObject(raw) || !isString(raw.type)) return undefined;
  switch (raw.type) {
    case 'snapshot':
      return isObject(raw.state) && raw.state.version === PROTOCOL_VERSION && isObject(raw.state.model) && Array.isArray(raw.state.hidden) ? { type: 'snapshot', state: raw.state as unknown as ViewState } : undefined;
    case 'progress':
      return raw.progress === undefined || isObject(raw.progress) ? { type: 'progress', progress: raw.progress as RunProgress | undefined } : undefined;
    case 'exportCharts':
      return { type: 'exportCharts' };
    default:
      return undefined;
  }
}
