/**
 * Checks a folder picked as a local model before it is stored in the settings: it needs
 * config.json, tokenizer.json, tokenizer_config.json and an ONNX file (model.onnx, or
 * onnx/model*.onnx as transformers.js repos lay it out). No `vscode` import: unit-tested.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { REQUIRED_FILES } from '../core/model/hub';

export interface ModelFolderCheck {
  /** Folder-relative ONNX files found (`model.onnx`, `onnx/model_q4.onnx`, ...). */
  onnxFiles: string[];
  /** Required files that are absent or unreadable, in words ("tokenizer.json", "an ONNX file ..."). */
  missing: string[];
  /** What to tell the user when something is missing; undefined when the folder is usable. */
  problem?: string;
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

async function onnxIn(folder: string, prefix = ''): Promise<string[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.onnx')).sort().map((n) => `${prefix}${n}`);
}

export async function checkModelFolder(folder: string): Promise<ModelFolderCheck> {
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory()) return { onnxFiles: [], missing: [], problem: `${folder} is not a folder.` };
  const onnxFiles = [...(await onnxIn(folder)), ...(await onnxIn(path.join(folder, 'onnx'), 'onnx/'))];
  const missing: string[] = [];
  for (const file of REQUIRED_FILES) if (!(await isFile(path.join(folder, file)))) missing.push(file);
  const notes: string[] = [];
  if (!missing.includes('config.json')) {
    try {
      JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8'));
    } catch {
      notes.push('its config.json is not valid JSON');
    }
  }
  if (onnxFiles.length === 0) missing.push('an ONNX file (model.onnx or onnx/model*.onnx)');
  if (missing.length === 0 && notes.length === 0) return { onnxFiles, missing };
  const problems = [...(missing.length ? [`it has no ${joinWords(missing)}`] : []), ...notes];
  // Picking the onnx/ folder of a transformers.js repo is an easy slip: point at the folder above.
  const parentHint = path.basename(folder) === 'onnx' && (await isFile(path.join(folder, '..', 'config.json'))) ? ` Choose the folder above it (${path.dirname(folder)}) instead.` : '';
  return {
    onnxFiles,
    missing,
    problem: `${folder} is not a usable model folder: ${problems.join('; ')}. A model folder holds config.json, tokenizer.json, tokenizer_config.json and model.onnx (or onnx/model*.onnx), as Hugging Face ONNX repos do.${parentHint}`,
  };
}

function joinWords(items: string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
