/**
 * Activation patching of two editor selections as the host keeps it and the panel receives it:
 * the clean and corrupted texts' tokens, the metric with its values on both runs, and per patched
 * point kind a layer × position grid of normalised effects. Checked before it is stored or drawn.
 */
import type { PatchPointKind } from '../core/graph/patchGraph';
import type { PatchGrid, PatchMetric, PatchText } from '../core/patch/patchResults';

export interface PatchSelection {
  clean: PatchText;
  corrupted: PatchText;
  metric: PatchMetric;
  grids: PatchGrid[];
  /** Why some points could not be patched on this model. */
  notes: string[];
}

const KINDS: readonly PatchPointKind[] = ['resid_post', 'attn_out', 'mlp_out'];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isNumber = (v: unknown): v is number => typeof v === 'number';
/** Effects cross JSON, where a non-finite number becomes null. */
const isEffect = (v: unknown) => v === null || isNumber(v);

function isText(v: unknown): v is PatchText {
  return isObject(v) && typeof v.label === 'string' && Array.isArray(v.ids) && v.ids.every(isNumber) && Array.isArray(v.tokens) && v.tokens.length === v.ids.length && v.tokens.every((t) => typeof t === 'string');
}

/** Validates a patch selection (a snapshot, or stored state written by another version). */
export function parsePatchSelection(raw: unknown): PatchSelection | undefined {
  if (!isObject(raw) || !isText(raw.clean) || !isText(raw.corrupted) || raw.clean.ids.length !== raw.corrupted.ids.length) return undefined;
  const n = raw.corrupted.ids.length;
  const m = raw.metric;
  if (!isObject(m) || (m.kind !== 'logit-diff' && m.kind !== 'target') || !isNumber(m.target) || !isNumber(m.foil) || typeof m.targetToken !== 'string' || typeof m.foilToken !== 'string' || !isNumber(m.clean) || !isNumber(m.corrupted)) return undefined;
  if (!Array.isArray(raw.grids) || raw.grids.length === 0) return undefined;
  for (const g of raw.grids as unknown[]) {
    if (!isObject(g) || !KINDS.includes(g.point as PatchPointKind) || !Array.isArray(g.layers) || g.layers.length === 0) return undefined;
    if (!g.layers.every((l) => isObject(l) && isNumber(l.layer) && Array.isArray(l.effect) && l.effect.length === n && l.effect.every(isEffect))) return undefined;
  }
  const notes = Array.isArray(raw.notes) ? raw.notes.filter((s): s is string => typeof s === 'string') : [];
  return { ...(raw as unknown as PatchSelection), notes };
}
