/** The dataset name of a profiled selection or file. No `vscode` import: unit-tested. */

export interface SelectionLines {
  /** 0-based, as vscode.Position. */
  startLine: number;
  endLine: number;
  endCharacter: number;
}

/**
 * "selection: a.py:2-11" (1-based lines), or "file: a.py" for a whole file. A selection that ends
 * at column 0 (whole lines selected with Shift+Down) takes nothing of its last line, which is left out.
 */
export function selectionLabel(file: string, selection: SelectionLines | undefined): string {
  if (!selection) return `file: ${file}`;
  const last = selection.endCharacter === 0 && selection.endLine > selection.startLine ? selection.endLine - 1 : selection.endLine;
  const lines = last === selection.startLine ? `${selection.startLine + 1}` : `${selection.startLine + 1}-${last + 1}`;
  return `selection: ${file}:${lines}`;
}
