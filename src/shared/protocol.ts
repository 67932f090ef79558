/**
 * Messages between the extension host and its webviews (results panel, side view). One union type
 * per direction; both sides validate what arrives. The host always answers `ready` with a full
 * snapshot, so a view that (re)appears never shows stale state.
 */
import type { Findings } from '../core/compare/findings';
import type { Correction, LayerComparison } from '../core/compare/types';
import type { ProfileResults, TokenProfile } from '../core/results';
import { isLensMetric } from '../core/lens/lensMetrics';
import type { LensComparisonRequest, LensDatasetsView } from './lensDatasets';
import type { LensSelection } from './lensSelection';
import type { PatchSelection } from './patchSelection';
import type { TextDiffSelection } from './textDiffSelection';

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

/** What the comparison chart compares: two datasets, or one against all the other visible ones pooled. */
export type ComparisonChoice = { kind: 'pair'; a: string; b: string } | { kind: 'vsRest'; name: string };

/** Per-layer metrics the comparison can test, in the order the picker offers them. */
export const COMPARISON_METRICS = ['absMean', 'mean', 'l2', 'relChange', 'cosine'] as const;
export type ComparisonMetric = (typeof COMPARISON_METRICS)[number];

/** The user's comparison: which datasets, on which metric. */
export interface ComparisonRequest {
  choice: ComparisonChoice;
  metric: ComparisonMetric;
}

/**
 * The comparison the host computed (core/compare) for the resolved request. Non-finite numbers
 * (t and g when neither side varies) arrive as null, as in the compare@1 JSON; `degenerate` says why.
 */
export interface ComparisonView {
  request: ComparisonRequest;
  /** Metrics every visible dataset has (results of older files lack the newer ones). */
  metrics: ComparisonMetric[];
  a: string;
  /** The other dataset, or `rest`. */
  b: string;
  /** For `rest`: the datasets pooled into it. */
  pooled?: string[];
  correction: Correction;
  alpha: number;
  layers: LayerComparison[];
}

/** What the difference chart needs of a comparison (a profile one, or a lens one whose metric is named in words). */
export type DifferenceView = Pick<ComparisonView, 'a' | 'b' | 'pooled' | 'correction' | 'alpha'> & { request: { metric: string } };

export interface ViewState {
  version: typeof PROTOCOL_VERSION;
  model: ModelStatus;
  /** Results of the current model (results of other models are kept apart, never mixed). */
  results?: ProfileResults;
  /** Dataset names hidden from the charts. */
  hidden: string[];
  heatmap?: SelectionHeatmap;
  /** The logit lens of the last lensed selection (checked with parseLensSelection before drawing). */
  lens?: LensSelection;
  /** The last two compared texts (checked with parseTextDiffSelection before drawing). */
  textDiff?: TextDiffSelection;
  /** Folders read through the lens: per-text summaries, their comparison and findings (checked with parseLensDatasetsView). */
  lensDatasets?: LensDatasetsView;
  /** The last activation patching of two texts (checked with parsePatchSelection before drawing). */
  patch?: PatchSelection;
  /** The user's comparison choice (may name datasets since hidden or removed; the host resolves it). */
  comparison?: ComparisonRequest;
  /** The resolved comparison with its statistics, or why there is none. */
  compare?: ComparisonView | { reason: string };
  /** Findings in plain words for the results and the comparison shown. */
  findings?: Findings;
  /** Each dataset's colour index, kept for as long as the dataset exists (so colours never shift). */
  colors?: Record<string, number>;
  /** The dataset that holds the last profiled selection: the next selection replaces it unless kept. */
  selection?: string;
  /** Selection datasets whose document the host can open at the profiled range. */
  withOrigin?: string[];
  progress?: RunProgress;
}

export const HOST_COMMANDS = ['profileSelection', 'lensSelection', 'lensFolder', 'patchSelections', 'patchCompared', 'compareSelections', 'compareWithHead', 'compareWithClipboard', 'profileFolder', 'refreshDataset', 'chooseModel', 'showLayers', 'exportResults', 'clearResults', 'cancel', 'openPanel'] as const;

export type HostCommand = (typeof HOST_COMMANDS)[number];

/** Webview → host. */
export type ViewMessage =
  | { type: 'ready' }
  | { type: 'command'; command: HostCommand }
  | { type: 'toggleDataset'; name: string; visible: boolean }
  | { type: 'renameDataset'; name: string }
  | { type: 'removeDataset'; name: string }
  | { type: 'setComparison'; request: ComparisonRequest }
  /** Which two lens datasets the lens comparison shows, on which metric. */
  | { type: 'setLensComparison'; request: LensComparisonRequest }
  /** Keep the selection slot's dataset as a permanent dataset. */
  | { type: 'keepSelection' }
  /** Open a text of a dataset (drill-down); the host opens only paths that are records of that dataset. */
  | { type: 'openText'; dataset: string; path: string }
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
    case 'setComparison': {
      const request = parseComparisonRequest(raw.request);
      return request ? { type: 'setComparison', request } : undefined;
    }
    case 'setLensComparison': {
      const request = parseLensComparisonRequest(raw.request);
      return request ? { type: 'setLensComparison', request } : undefined;
    }
    case 'keepSelection':
      return { type: 'keepSelection' };
    case 'openText':
      return isString(raw.dataset) && isString(raw.path) ? { type: 'openText', dataset: raw.dataset, path: raw.path } : undefined;
    case 'chartImage':
      return isString(raw.chart) && isString(raw.dataUrl) && raw.dataUrl.startsWith('data:image/png;base64,') ? { type: 'chartImage', chart: raw.chart, dataUrl: raw.dataUrl } : undefined;
    default:
      return undefined;
  }
}

/** Validates a comparison request (from a webview, or persisted by an older version). */
export function parseComparisonRequest(raw: unknown): ComparisonRequest | undefined {
  if (!isObject(raw)) return undefined;
  const metric = isString(raw.metric) && (COMPARISON_METRICS as readonly string[]).includes(raw.metric) ? (raw.metric as ComparisonMetric) : undefined;
  const choice = raw.choice;
  if (!metric || !isObject(choice)) return undefined;
  if (choice.kind === 'pair' && isString(choice.a) && isString(choice.b)) return { choice: { kind: 'pair', a: choice.a, b: choice.b }, metric };
  if (choice.kind === 'vsRest' && isString(choice.name)) return { choice: { kind: 'vsRest', name: choice.name }, metric };
  return undefined;
}

/** Validates a lens comparison request (from a webview, or persisted by another version). */
export function parseLensComparisonRequest(raw: unknown): LensComparisonRequest | undefined {
  if (!isObject(raw) || !isString(raw.a) || !isString(raw.b) || !isLensMetric(raw.metric)) return undefined;
  return { a: raw.a, b: raw.b, metric: raw.metric };
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
