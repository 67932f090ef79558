/**
 * The activation-patching contract (`layer-profiler/patch@1`): the clean and corrupted texts, the
 * metric read at the last position, and per patched point kind a layer × position grid of
 * normalised effects (m_patched − m_corrupted) / (m_clean − m_corrupted).
 */
import type { PatchPointKind } from '../graph/patchGraph';
import type { ModelInfo, Provenance, RuntimeInfo } from '../results';

export const PATCH_SCHEMA = 'layer-profiler/patch@1';

export interface PatchText {
  label: string;
  ids: number[];
  tokens: string[];
}

export type PatchMetricKind = 'logit-diff' | 'target';

export interface PatchMetric {
  /** logit-diff: target and foil are the clean and corrupted runs' top next tokens; target: named by the user. */
  kind: PatchMetricKind;
  target: number;
  foil: number;
  targetToken: string;
  foilToken: string;
  /** logit[target] − logit[foil] at the last position of the clean and corrupted runs. */
  clean: number;
  corrupted: number;
}

export interface PatchLayerRow {
  layer: number;
  /** Per position of the corrupted text. */
  effect: number[];
}

export interface PatchGrid {
  point: PatchPointKind;
  layers: PatchLayerRow[];
}

export interface PatchResults {
  schema: typeof PATCH_SCHEMA;
  model: ModelInfo;
  runtime: RuntimeInfo;
  settings: { points: PatchPointKind[]; batchSize: number };
  provenance: Provenance;
  /** Why some requested points could not be patched on this model. */
  notes: string[];
  clean: PatchText;
  corrupted: PatchText;
  metric: PatchMetric;
  grids: PatchGrid[];
}
