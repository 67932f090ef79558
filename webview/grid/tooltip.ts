/**
 * Where a grid's hover tooltip goes: beside the pointer, kept inside the view's box. Positioned
 * from script because the webview's CSP allows that, not style attributes in markup.
 */
export function placeTooltip(tip: HTMLElement, root: HTMLElement, e: MouseEvent): void {
  const box = root.getBoundingClientRect();
  const x = Math.min(e.clientX - box.left + 12, Math.max(0, box.width - tip.offsetWidth - 4));
  tip.style.left = `${x}px`;
  tip.style.top = `${e.clientY - box.top + 16}px`;
}
