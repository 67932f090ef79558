/** "Choose Model": a recommended Hub model, one typed in, or a local folder; writes the settings. */
import * as vscode from 'vscode';
import { DTYPES, type Dtype } from '../core/api';
import { onnxPathForDtype } from '../core/model/dtype';
import { localDtypes } from '../core/model/localModel';
import { SECTION } from './settings';

/** Small ONNX models from onnx-community that run comfortably on a laptop CPU. */
export const RECOMMENDED_MODELS: { id: string; dtype: Dtype; detail: string }[] = [
  { id: 'onnx-community/Qwen2.5-Coder-0.5B-Instruct', dtype: 'q8', detail: '24 layers, knows code (default)' },
  { id: 'onnx-community/Qwen2.5-0.5B-Instruct', dtype: 'q8', detail: '24 layers, general text' },
  { id: 'HuggingFaceTB/SmolLM2-135M-Instruct', dtype: 'q8', detail: '30 layers, very small' },
  { id: 'onnx-community/Llama-3.2-1B-Instruct', dtype: 'q4', detail: '16 layers, larger' },
];

export async function chooseModel(): Promise<boolean> {
  type Item = vscode.QuickPickItem & { action: 'hub' | 'typed' | 'local'; id?: string; dtype?: Dtype };
  const items: Item[] = [
    ...RECOMMENDED_MODELS.map((m): Item => ({ label: m.id, description: m.dtype, detail: m.detail, action: 'hub', id: m.id, dtype: m.dtype })),
    { label: '', kind: vscode.QuickPickItemKind.Separator, action: 'typed' },
    { label: '$(edit) Enter a Hugging Face model id…', action: 'typed' },
    { label: '$(folder) Use a local model folder…', action: 'local' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Layer Profiler: Choose Model', placeHolder: 'A model to profile' });
  if (!pick) return false;
  const config = vscode.workspace.getConfiguration(SECTION);
  const target = vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  if (pick.action === 'local') {
    const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Model folder (config.json, tokenizer.json, model.onnx or onnx/model*.onnx)' });
    if (!folder?.[0]) return false;
    // A folder laid out as a transformers.js repo is read by dtype; the setting left over from a Hub
    // model must not pick weights the folder does not have.
    const present = await localDtypes(folder[0].fsPath);
    let dtype: Dtype | undefined = present.length === 1 ? present[0] : undefined;
    if (present.length > 1) {
      const d = await vscode.window.showQuickPick(present.map((x) => ({ label: x, description: onnxPathForDtype(x) })), { title: 'Weights to profile', placeHolder: 'The folder holds several precisions of the model' });
      if (!d) return false;
      dtype = d.label as Dtype;
    }
    await config.update('localModelPath', folder[0].fsPath, target);
    await config.update('dtype', dtype, target);
    return true;
  }
  let id = pick.id;
  let dtype = pick.dtype;
  if (pick.action === 'typed') {
    id = await vscode.window.showInputBox({ title: 'Hugging Face model id', placeHolder: 'org/name, an ONNX repo such as onnx-community/…', validateInput: (v) => (/^[\w.-]+\/[\w.-]+$/.test(v.trim()) ? undefined : 'Use the form org/name') });
    if (!id) return false;
    const d = await vscode.window.showQuickPick(DTYPES.map((x) => ({ label: x })), { title: 'Weights to download', placeHolder: 'q8 is small and fast; fp32 is exact' });
    if (!d) return false;
    dtype = d.label as Dtype;
  }
  await config.update('localModelPath', '', target);
  await config.update('model', id!.trim(), target);
  await config.update('dtype', dtype, target);
  return true;
}
