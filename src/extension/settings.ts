/** Every setting the extension reads, read in one place (contributes.configuration in package.json). */
import type * as vscode from 'vscode';
import { DEFAULT_MAX_BATCH_TOKENS } from '../core/batching';
import { DEVICES, type DeviceChoice } from '../core/runtime/device';
import { DEFAULT_DTYPE, DEFAULT_MAX_FILE_BYTES, DEFAULT_MODEL_ID, DEFAULT_PROFILE_OPTIONS, DTYPES, type Dtype, type ModelSpec } from '../core/api';

export const SECTION = 'layerProfiler';

export interface Settings {
  model: ModelSpec;
  cacheDir?: string;
  hubUrl?: string;
  maxTokens: number;
  batchSize: number;
  /** Most token slots (windows × padded length) in one pass: memory follows this, not batchSize. */
  maxBatchTokens: number;
  threads: number;
  device: DeviceChoice;
  include: string[];
  exclude: string[];
  maxFileBytes: number;
  engineIdleMs: number;
  /** Shade profiled tokens in the editor after Profile Selection. */
  highlightTokens: boolean;
  skipFirstToken: boolean;
  refreshOnSave: boolean;
}

/** The subset of WorkspaceConfiguration used here, so tests can pass a plain object. */
export type ConfigReader = Pick<vscode.WorkspaceConfiguration, 'get'> & Partial<Pick<vscode.WorkspaceConfiguration, 'inspect'>>;

/**
 * Whether the user set `key` rather than leaving its default: only a dtype the user chose applies to
 * a local folder, which without one keeps model.onnx / onnx/model.onnx. A reader that cannot tell
 * (a plain object in tests) counts a value it has as set.
 */
function isSet(config: ConfigReader, key: string): boolean {
  if (!config.inspect) return config.get(key) !== undefined;
  const i = config.inspect(key);
  return [i?.globalValue, i?.workspaceValue, i?.workspaceFolderValue, i?.globalLanguageValue, i?.workspaceLanguageValue, i?.workspaceFolderLanguageValue].some((v) => v !== undefined);
}

export function readSettings(config: ConfigReader, filesExclude: Record<string, unknown> = {}): Settings {
  const str = (key: string) => (config.get<string>(key) ?? '').trim();
  const int = (key: string, fallback: number, min: number) => {
    const v = config.get<number>(key);
    return typeof v === 'number' && Number.isFinite(v) && v >= min ? Math.floor(v) : fallback;
  };
  const list = (key: string) => (config.get<string[]>(key) ?? []).filter((s) => typeof s === 'string' && s.trim() !== '');
  const dtypeSetting = str('dtype');
  const dtype: Dtype = (DTYPES as readonly string[]).includes(dtypeSetting) ? (dtypeSetting as Dtype) : DEFAULT_DTYPE;
  const localPath = str('localModelPath');
  const localDtype = isSet(config, 'dtype') && dtypeSetting === dtype ? { dtype } : {};
  const model: ModelSpec = localPath ? { kind: 'local', path: localPath, ...localDtype } : { kind: 'hub', id: str('model') || DEFAULT_MODEL_ID, dtype };
  // files.exclude maps globs to true (or to a `when` clause, which cannot be evaluated here: skip those).
  const fromFilesExclude = Object.entries(filesExclude).filter(([, v]) => v === true).map(([glob]) => glob);
  return {
    model,
    cacheDir: str('cacheDir') || undefined,
    hubUrl: str('hubEndpoint') || undefined,
    maxTokens: int('maxTokens', DEFAULT_PROFILE_OPTIONS.maxTokens, 1),
    batchSize: int('batchSize', DEFAULT_PROFILE_OPTIONS.batchSize, 1),
    maxBatchTokens: int('maxBatchTokens', DEFAULT_MAX_BATCH_TOKENS, 1),
    threads: int('threads', 0, 0),
    device: oneOf(config.get<string>('device'), DEVICES, 'auto'),
    include: list('include'),
    exclude: [...list('exclude'), ...fromFilesExclude],
    maxFileBytes: int('maxFileSize', DEFAULT_MAX_FILE_BYTES, 1),
    engineIdleMs: int('engineIdleMinutes', 5, 1) * 60_000,
    highlightTokens: config.get<boolean>('highlightTokens') !== false,
    skipFirstToken: config.get<boolean>('skipFirstToken') === true,
    refreshOnSave: config.get<boolean>('refreshOnSave') === true,
  };
}

/** Key under which results are stored: results of different models are never mixed. */
export function modelKey(spec: ModelSpec): string {
  return spec.kind === 'hub' ? `hub:${spec.id}@${spec.revision ?? 'main'}:${spec.dtype}` : `local:${spec.path}${spec.dtype ? `:${spec.dtype}` : ''}`;
}

export function describeSpec(spec: ModelSpec): string {
  return spec.kind === 'hub' || spec.dtype ? `${spec.kind === 'hub' ? spec.id : spec.path} (${spec.dtype})` : spec.path;
}

/** A setting's value when it is one of `choices`, else the default (a hand-edited settings.json can hold anything). */
function oneOf<T extends string>(value: string | undefined, choices: readonly T[], fallback: T): T {
  return (choices as readonly string[]).includes(value ?? '') ? (value as T) : fallback;
}
