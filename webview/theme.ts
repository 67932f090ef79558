/**
 * Theme colours for canvases. CSS styles the DOM through var(--vscode-*) directly, but Chart.js
 * and the heatmap paint pixels, so they read the variables here and again whenever VS Code
 * switches theme (it toggles classes on <body>).
 */
import { OKABE_ITO_DARK, OKABE_ITO_LIGHT, VIRIDIS } from '../src/shared/palette';
import { parseColor, type Rgba } from './color';

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export interface Theme {
  kind: ThemeKind;
  foreground: string;
  muted: string;
  grid: string;
  background: Rgba;
  fontFamily: string;
  fontSize: number;
  /** The editor's font, for tokens: they are code and read best as the editor shows them. */
  monoFamily: string;
  tooltip: { background: string; foreground: string; border: string };
  /** Series colours (Okabe–Ito), indexed by a dataset's colour index (wrapping). */
  series: string[];
  /** Colour stops of the heatmap's sequential scale (viridis), from low to high. */
  heatStops: Rgba[];
}

// VS Code's default dark and light colours, for when a variable is missing (tests, old hosts).
const FALLBACK_DARK = { foreground: '#cccccc', muted: '#9d9d9d', grid: '#454545', background: '#1e1e1e' };
const FALLBACK_LIGHT = { foreground: '#3b3b3b', muted: '#717171', grid: '#c8c8c8', background: '#ffffff' };

export function themeKind(body: HTMLElement = document.body): ThemeKind {
  const c = body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-light')) return 'light';
  return 'dark';
}

export function readTheme(body: HTMLElement = document.body): Theme {
  const style = getComputedStyle(body);
  const kind = themeKind(body);
  const light = kind === 'light' || kind === 'high-contrast-light';
  const fb = light ? FALLBACK_LIGHT : FALLBACK_DARK;
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const view = body.dataset.view === 'sidebar' ? '--vscode-sideBar-background' : '--vscode-editor-background';
  const background = parseColor(v(view, v('--vscode-editor-background', fb.background))) ?? parseColor(fb.background)!;
  return {
    kind,
    foreground: v('--vscode-foreground', fb.foreground),
    muted: v('--vscode-descriptionForeground', fb.muted),
    grid: v('--vscode-editorWidget-border', v('--vscode-panel-border', fb.grid)),
    background: { ...background, a: 1 },
    fontFamily: v('--vscode-font-family', 'system-ui, sans-serif'),
    monoFamily: v('--vscode-editor-font-family', 'monospace'),
    fontSize: parseFloat(v('--vscode-font-size', '13')) || 13,
    tooltip: {
      background: v('--vscode-editorHoverWidget-background', light ? '#f8f8f8' : '#252526'),
      foreground: v('--vscode-editorHoverWidget-foreground', fb.foreground),
      border: v('--vscode-editorHoverWidget-border', fb.grid),
    },
    // The theme's chart colours are only six and not colour-blind safe; Okabe–Ito is both, in every theme.
    series: [...(light ? OKABE_ITO_LIGHT : OKABE_ITO_DARK)],
    // Viridis in every theme: perceptually uniform, colour-blind safe, lightness rising with the value.
    heatStops: VIRIDIS.map((c) => parseColor(c)!),
  };
}

export function seriesColor(theme: Theme, colorIndex: number): string {
  return theme.series[colorIndex % theme.series.length];
}

/** Calls `onChange` with the new theme whenever VS Code swaps theme classes or variables on <body>. */
export function observeTheme(onChange: (theme: Theme) => void, body: HTMLElement = document.body): () => void {
  let last = JSON.stringify(readTheme(body));
  const observer = new MutationObserver(() => {
    const theme = readTheme(body);
    const key = JSON.stringify(theme);
    if (key === last) return;
    last = key;
    onChange(theme);
  });
  // VS Code toggles the theme kind's class on <body> and rewrites the variables in <html style>.
  observer.observe(body, { attributes: true, attributeFilter: ['class', 'style', 'data-vscode-theme-kind'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
  return () => observer.disconnect();
}
