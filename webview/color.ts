/**
 * Colour arithmetic for theme colours. VS Code hands colours to webviews as CSS strings
 * (#rgb, #rrggbb, #rrggbbaa, rgb(), rgba()); canvases need them blended and made translucent.
 */
export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

export function parseColor(text: string): Rgba | undefined {
  const s = text.trim().toLowerCase();
  const hex = /^#([0-9a-f]{3,8})$/.exec(s)?.[1];
  if (hex && [3, 4, 6, 8].includes(hex.length)) {
    const full = hex.length <= 4 ? [...hex].map((c) => c + c).join('') : hex;
    const byte = (i: number) => parseInt(full.slice(i * 2, i * 2 + 2), 16);
    return { r: byte(0), g: byte(1), b: byte(2), a: full.length === 8 ? byte(3) / 255 : 1 };
  }
  const fn = /^rgba?\(([^)]*)\)$/.exec(s)?.[1];
  if (fn) {
    const parts = fn.split(/[\s,/]+/).filter(Boolean).map(Number);
    if (parts.length >= 3 && parts.slice(0, 3).every(Number.isFinite)) {
      return { r: parts[0], g: parts[1], b: parts[2], a: Number.isFinite(parts[3]) ? parts[3] : 1 };
    }
  }
  return undefined;
}

export function formatColor({ r, g, b, a }: Rgba): string {
  const c = (v: number) => Math.round(Math.min(255, Math.max(0, v)));
  return a >= 1 ? `rgb(${c(r)}, ${c(g)}, ${c(b)})` : `rgba(${c(r)}, ${c(g)}, ${c(b)}, ${Number(a.toFixed(3))})`;
}

/** The colour with its alpha multiplied by `alpha`; unparseable colours come back unchanged. */
export function withAlpha(color: string, alpha: number): string {
  const c = parseColor(color);
  return c ? formatColor({ ...c, a: c.a * alpha }) : color;
}

/** Linear blend of two colours, t = 0 gives `from`, t = 1 gives `to`. */
export function mix(from: Rgba, to: Rgba, t: number): Rgba {
  const k = Math.min(1, Math.max(0, t));
  return { r: from.r + (to.r - from.r) * k, g: from.g + (to.g - from.g) * k, b: from.b + (to.b - from.b) * k, a: from.a + (to.a - from.a) * k };
}

/** A colour on a scale through evenly spaced stops, t in 0..1. */
export function scaleColor(stops: Rgba[], t: number): Rgba {
  if (stops.length === 1) return stops[0];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  return mix(stops[i], stops[i + 1], x - i);
}

/** Relative luminance (WCAG), to pick readable text over a cell or tell light themes from dark. */
export function luminance({ r, g, b }: Rgba): number {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/**
 * A colour on a diverging scale: `neutral` at t = 0, `negative` at t = −1, `positive` at t = +1
 * (t clamped to −1…1), blended linearly on each side.
 */
export function divergingColor(negative: Rgba, neutral: Rgba, positive: Rgba, t: number): Rgba {
  const k = Math.max(-1, Math.min(1, t));
  return k < 0 ? mix(neutral, negative, -k) : mix(neutral, positive, k);
}
