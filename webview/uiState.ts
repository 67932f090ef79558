/**
 * Small UI state persisted by VS Code with the webview (vscode.setState), so a panel that is
 * hidden and shown again, or restored after a reload, keeps its open tables. Versioned, and
 * validated on load, because it outlives the code that wrote it.
 */
import { LENS_SHADES, type LensShade } from '../src/shared/lensGrid';

export const UI_STATE_VERSION = 1;

export interface UiState {
  version: typeof UI_STATE_VERSION;
  /** Ids of the charts whose "Show table" is on. */
  openTables: string[];
  /** Heatmap colours each layer on its own scale (true) or all layers on one (false). */
  heatmapPerLayer: boolean;
  /** Y axes start at zero (true) or zoom to the data (false). */
  yFromZero: boolean;
  /** The logit lens grid's cells are shaded by their top-1 probability or by the entropy. */
  lensShade: LensShade;
}

export const DEFAULT_UI_STATE: UiState = { version: UI_STATE_VERSION, openTables: [], heatmapPerLayer: true, yFromZero: false, lensShade: 'probability' };

export function parseUiState(raw: unknown): UiState {
  if (typeof raw !== 'object' || raw === null) return { ...DEFAULT_UI_STATE };
  const r = raw as Record<string, unknown>;
  if (r.version !== UI_STATE_VERSION) return { ...DEFAULT_UI_STATE };
  return {
    version: UI_STATE_VERSION,
    openTables: Array.isArray(r.openTables) ? r.openTables.filter((t): t is string => typeof t === 'string') : [],
    heatmapPerLayer: typeof r.heatmapPerLayer === 'boolean' ? r.heatmapPerLayer : DEFAULT_UI_STATE.heatmapPerLayer,
    yFromZero: typeof r.yFromZero === 'boolean' ? r.yFromZero : DEFAULT_UI_STATE.yFromZero,
    lensShade: (LENS_SHADES as readonly unknown[]).includes(r.lensShade) ? (r.lensShade as LensShade) : DEFAULT_UI_STATE.lensShade,
  };
}
