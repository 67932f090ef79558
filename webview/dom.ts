/**
 * Tiny DOM builders. Text always goes in through textContent, never innerHTML, so dataset names
 * and tokens from the user's files cannot inject markup; no inline styles either (the CSP forbids them).
 */
type Child = Node | string | undefined | false | null;
type Attrs = Record<string, string | number | boolean | undefined>;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== undefined && child !== false && child !== null) node.append(child);
  return node;
}

/** A vscode-button that runs `onClick`; `key` lets keepFocus find it again after a re-render. */
export function button(label: string, onClick: () => void, options: { secondary?: boolean; key?: string; title?: string; ariaLabel?: string } = {}): HTMLElement {
  const b = el('vscode-button', { secondary: options.secondary, 'data-focus-key': options.key, title: options.title, 'aria-label': options.ariaLabel }, label);
  b.addEventListener('click', onClick);
  return b;
}

/**
 * Rebuilds part of the page without losing keyboard focus: a control focused before (marked with
 * data-focus-key) gets focus again in the new content. Without this, toggling a dataset with the
 * keyboard would drop focus to <body> when the host's snapshot re-renders the list.
 */
export function keepFocus(container: HTMLElement, rebuild: () => void): void {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && container.contains(active) ? active.closest<HTMLElement>('[data-focus-key]')?.dataset.focusKey : undefined;
  rebuild();
  if (key === undefined) return;
  const next = [...container.querySelectorAll<HTMLElement & { updateComplete?: Promise<unknown> }>('[data-focus-key]')].find((n) => n.dataset.focusKey === key);
  // vscode-elements delegate focus into a shadow DOM that lit renders a microtask later.
  if (next?.updateComplete) void next.updateComplete.then(() => next.focus());
  else next?.focus();
}
