/**
 * "Choose Model": a recommended Hub model (with its download size), one typed in, or a local
 * folder, which is checked when it is picked. Asks whether the choice goes to the user's settings or
 * the workspace's, and says where it went.
 */
import * as vscode from 'vscode';
import { DTYPES, type Dtype } from '../core/api';
import { onnxPathForDtype } from '../core/model/dtype';
import { localDtypes } from '../core/model/localModel';
import { describeSize, isDtype, RECOMMENDED_MODELS } from './modelCatalog';
import { checkModelFolder } from './modelFolderCheck';
import { SECTION } from './settings';

export type SettingsTarget = 'user' | 'workspace';

/** Scripts and tests may skip the prompts: `{ folder, target }` for a local folder, `{ action: 'local' }` to go straight to the folder dialog. */
export interface ChooseModelOptions {
  action?: 'local';
  folder?: string;
  target?: SettingsTarget;
}

export type ChooseModelResult = { saved: true; target: SettingsTarget; message: string } | { saved: false; problem?: string };

export async function chooseModel(options: ChooseModelOptions = {}): Promise<ChooseModelResult> {
  type Item = vscode.QuickPickItem & { action: 'hub' | 'typed' | 'local'; id?: string; dtype?: Dtype };
  let pick: Item | undefined;
  if (options.action === 'local' || options.folder) pick = { label: 'local', action: 'local' };
  else {
    const items: Item[] = [
      ...RECOMMENDED_MODELS.map((m): Item => ({ label: m.id, description: `${m.dtype} · ${describeSize(m.id, m.dtype)} download`, detail: m.detail, action: 'hub', id: m.id, dtype: m.dtype })),
      { label: '', kind: vscode.QuickPickItemKind.Separator, action: 'typed' },
      { label: '$(edit) Enter a Hugging Face model id…', description: 'downloaded once into the cache', action: 'typed' },
      { label: '$(folder) Use a local model folder…', description: 'no download', action: 'local' },
    ];
    pick = await vscode.window.showQuickPick(items, { title: 'Layer Profiler: Choose Model', placeHolder: 'A model to profile (Hub models are downloaded once, then used offline)' });
  }
  if (!pick) return { saved: false };
  if (pick.action === 'local') return chooseLocal(options);
  let id = pick.id;
  let dtype = pick.dtype;
  if (pick.action === 'typed') {
    id = await vscode.window.showInputBox({ title: 'Hugging Face model id', placeHolder: 'org/name, an ONNX repo such as onnx-community/…', validateInput: (v) => (/^[\w.-]+\/[\w.-]+$/.test(v.trim()) ? undefined : 'Use the form org/name') });
    if (!id) return { saved: false };
    const d = await vscode.window.showQuickPick(DTYPES.map((x) => ({ label: x, description: onnxPathForDtype(x) })), { title: 'Weights to download', placeHolder: 'q8 is small and fast; fp32 is exact' });
    if (!d || !isDtype(d.label)) return { saved: false };
    dtype = d.label;
  }
  if (!id || !dtype) return { saved: false };
  const target = await askTarget(options.target);
  if (!target) return { saved: false };
  return save(target, `${id.trim()} (${dtype})`, { localModelPath: '', model: id.trim(), dtype });
}

async function chooseLocal(options: ChooseModelOptions): Promise<ChooseModelResult> {
  let folder = options.folder;
  for (;;) {
    if (!folder) {
      const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Model folder (config.json, tokenizer.json, tokenizer_config.json, model.onnx or onnx/model*.onnx)', openLabel: 'Use this model' });
      if (!picked?.[0]) return { saved: false };
      folder = picked[0].fsPath;
    }
    const check = await checkModelFolder(folder);
    if (!check.problem) break;
    if (options.folder) {
      // Scripted: report and stop (a prompt would wait for a person).
      void vscode.window.showErrorMessage(`Layer Profiler: ${check.problem}`);
      return { saved: false, problem: check.problem };
    }
    const again = await vscode.window.showErrorMessage(`Layer Profiler: ${check.problem}`, { modal: true }, 'Choose Another Folder');
    if (again !== 'Choose Another Folder') return { saved: false, problem: check.problem };
    folder = undefined;
  }
  // A folder laid out as a transformers.js repo is read by dtype; the setting left over from a Hub
  // model must not pick weights the folder does not have.
  const present = await localDtypes(folder);
  let dtype: Dtype | undefined = present.length === 1 ? present[0] : undefined;
  if (present.length > 1) {
    const d = await vscode.window.showQuickPick(present.map((x) => ({ label: x, description: onnxPathForDtype(x) })), { title: 'Weights to profile', placeHolder: 'The folder holds several precisions of the model' });
    if (!d || !isDtype(d.label)) return { saved: false };
    dtype = d.label;
  }
  const target = await askTarget(options.target);
  if (!target) return { saved: false };
  return save(target, folder, { localModelPath: folder, dtype });
}

/**
 * Where the choice goes. Without a workspace there is only the user's settings; an untrusted
 * workspace's model settings are ignored (package.json restrictedConfigurations), so they go there too.
 */
async function askTarget(given: SettingsTarget | undefined): Promise<SettingsTarget | undefined> {
  if (!vscode.workspace.workspaceFolders?.length || !vscode.workspace.isTrusted) return 'user';
  if (given) return given;
  const folder = vscode.workspace.workspaceFolders.length === 1 ? vscode.workspace.workspaceFolders[0].name : 'this workspace';
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'User settings', description: 'for every workspace', target: 'user' as const },
      { label: 'Workspace settings', description: `only ${folder} (written to its .vscode/settings.json)`, target: 'workspace' as const },
    ],
    { title: 'Layer Profiler: where to keep the model choice' },
  );
  return pick?.target;
}

async function save(target: SettingsTarget, what: string, values: { localModelPath: string; model?: string; dtype: Dtype | undefined }): Promise<ChooseModelResult> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const scope = target === 'user' ? vscode.ConfigurationTarget.Global : vscode.ConfigurationTarget.Workspace;
  await config.update('localModelPath', values.localModelPath, scope);
  if (values.model !== undefined) await config.update('model', values.model, scope);
  await config.update('dtype', values.dtype, scope);
  const where = target === 'user' ? 'your user settings' : "this workspace's settings (.vscode/settings.json)";
  // A workspace value wins over the user's: say so rather than leave the choice without effect.
  const overridden = target === 'user' ? (['localModelPath', 'model', 'dtype'] as const).filter((k) => config.inspect(k)?.workspaceValue !== undefined) : [];
  const note = overridden.length ? ` This workspace's settings also set ${overridden.map((k) => `layerProfiler.${k}`).join(', ')}, which take precedence; remove them there to use this choice here.` : '';
  const message = `Model set to ${what} in ${where}.${note}`;
  void vscode.window.showInformationMessage(`Layer Profiler: ${message}`);
  return { saved: true, target, message };
}
