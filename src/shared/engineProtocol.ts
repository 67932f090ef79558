/**
 * Typed RPC between the extension host and the engine child process (Node IPC channel).
 * The engine runs inference out of the extension host, so a native crash cannot take it down.
 */
import type { DatasetInput, DownloadProgress, InspectResult, LoadOptions, ModelSpec, ProfileOptions, ProfileProgress } from '../core/api';
import type { DatasetResult, ModelInfo, ProfileSettings, RuntimeInfo, TextRecord, TokenProfile } from '../core/results';
import type { LensDataset } from '../core/lens/lensResults';
import type { LensSelection } from './lensSelection';
import type { PatchSelection } from './patchSelection';
import type { TextDiffSelection } from './textDiffSelection';

/** Options that cross the process boundary (no callbacks, no signals). */
export type EngineLoadOptions = Omit<LoadOptions, 'onDownloadProgress' | 'signal'>;

export interface OpenedModel {
  inspect: InspectResult;
  model: ModelInfo;
  runtime: RuntimeInfo;
}

export interface EngineMethods {
  open(params: { spec: ModelSpec; options: EngineLoadOptions }): OpenedModel;
  profileDataset(params: { input: DatasetInput; options: ProfileOptions }): DatasetResult;
  /** The settings a run with these options actually uses (window after the model's caps, exactness). */
  effectiveSettings(params: { options: ProfileOptions }): Pick<ProfileSettings, 'maxTokens' | 'windowTokens' | 'windowsContinueThroughCache' | 'positionLimit' | 'batchSize' | 'skipFirstToken'>;
  profileText(params: { label: string; text: string; options: ProfileOptions }): { dataset: DatasetResult; tokens: TokenProfile };
  /**
   * The logit lens of one text (an editor selection), through the open model's own final norm and
   * head: its first tokens' predictions per point, with their places in the text.
   */
  lensText(params: { label: string; text: string; options: Pick<ProfileOptions, 'maxTokens' | 'batchSize'>; k?: number }): LensSelection;
  /**
   * A folder (or file) read through the logit lens as a dataset: per-text records and per-point
   * summaries, progress sent as for profiles (the lens is opened lazily beside the model).
   */
  lensDataset(params: { input: DatasetInput; options: Pick<ProfileOptions, 'maxTokens' | 'batchSize'>; k?: number }): LensDataset;
  /**
   * Activation patching of two texts of equal token length: the corrupted one run with each
   * layer's state at each position taken from the clean one (the patching analysis, opened lazily).
   */
  patchTexts(params: { clean: { label: string; text: string }; corrupted: { label: string; text: string }; target?: string; foil?: string; batchSize: number }): PatchSelection;
  /**
   * Two texts compared at every residual point of the open model (the diff analysis, opened
   * lazily beside it): the L2 distance of their hidden states per aligned token pair.
   */
  diffTexts(params: { a: { label: string; text: string }; b: { label: string; text: string }; options: Pick<ProfileOptions, 'maxTokens'> }): TextDiffSelection;
  /** Layers of a model; the model is opened in ONNX Runtime and released, so what it accepts is known to load. */
  inspect(params: { spec: ModelSpec; options: EngineLoadOptions }): InspectResult;
}

export type EngineMethod = keyof EngineMethods;

export interface EngineRequest<M extends EngineMethod = EngineMethod> {
  kind: 'request';
  id: number;
  method: M;
  params: Parameters<EngineMethods[M]>[0];
}

export interface EngineCancel {
  kind: 'cancel';
  id: number;
}

export type HostToEngine = EngineRequest | EngineCancel;

export type EngineToHost =
  | { kind: 'result'; id: number; result: unknown }
  /** `code`: the error's own code where it has one (a Hub download's 'network', 'offline', ...). */
  | { kind: 'error'; id: number; error: { name: string; message: string; code?: string } }
  | { kind: 'progress'; id: number; progress: ProfileProgress }
  | { kind: 'download'; id: number; progress: DownloadProgress }
  /** One text of a `profileDataset` run, sent as it finishes: the host keeps it if the engine dies. */
  | { kind: 'text'; id: number; record: TextRecord };

const ENGINE_TO_HOST_KINDS: readonly string[] = ['result', 'error', 'progress', 'download', 'text'];

export function isEngineToHost(raw: unknown): raw is EngineToHost {
  if (typeof raw !== 'object' || raw === null) return false;
  const m = raw as Record<string, unknown>;
  return typeof m.id === 'number' && typeof m.kind === 'string' && ENGINE_TO_HOST_KINDS.includes(m.kind);
}

export function isHostToEngine(raw: unknown): raw is HostToEngine {
  if (typeof raw !== 'object' || raw === null) return false;
  const m = raw as Record<string, unknown>;
  return typeof m.id === 'number' && ((m.kind === 'request' && typeof m.method === 'string') || m.kind === 'cancel');
}
