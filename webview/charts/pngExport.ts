/**
 * Exported images stand on their own: the chart drawn at 2× with a header that says what it is
 * (title), what it measures (metric), on which model, and how many texts each dataset holds.
 */
import type { ExportCaption } from '../../src/shared/exportCaption';
import { formatColor } from '../color';
import type { Theme } from '../theme';

export const EXPORT_SCALE = 2;

/** Lays the caption above `image` (already drawn at `scale`) on the theme's background; returns a PNG data URL. */
export function composePng(image: HTMLCanvasElement, caption: ExportCaption | undefined, theme: Theme, scale = EXPORT_SCALE): string {
  if (!caption) return image.toDataURL('image/png');
  const pad = 12 * scale;
  const titleSize = 15 * scale;
  const lineSize = 12 * scale;
  const lineHeight = Math.round(lineSize * 1.45);
  const measure = document.createElement('canvas').getContext('2d')!;
  const font = (size: number, bold = false) => `${bold ? '600 ' : ''}${size}px ${theme.fontFamily}`;
  measure.font = font(lineSize);
  const maxWidth = Math.max(image.width - 2 * pad, 200 * scale);
  const lines = caption.lines.flatMap((l) => wrap(measure, l, maxWidth));
  const header = pad + titleSize + 6 * scale + lines.length * lineHeight + pad / 2;
  const canvas = document.createElement('canvas');
  canvas.width = image.width;
  canvas.height = image.height + header;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = formatColor(theme.background);
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.textBaseline = 'top';
  ctx.fillStyle = theme.foreground;
  ctx.font = font(titleSize, true);
  ctx.fillText(caption.title, pad, pad, maxWidth);
  ctx.font = font(lineSize);
  ctx.fillStyle = theme.muted;
  lines.forEach((line, i) => ctx.fillText(line, pad, pad + titleSize + 6 * scale + i * lineHeight));
  ctx.drawImage(image, 0, header);
  return canvas.toDataURL('image/png');
}

/**
 * A grid view's image: `width` CSS pixels wide, a legend band of `legendHeight` above a body of
 * `bodyHeight`, drawn at EXPORT_SCALE on the theme's background, with the caption laid above.
 */
export function gridPng(
  size: { width: number; legendHeight: number; bodyHeight: number },
  theme: Theme,
  caption: ExportCaption | undefined,
  paint: { legend: (ctx: CanvasRenderingContext2D) => void; body: (ctx: CanvasRenderingContext2D) => void },
): string {
  const height = size.legendHeight + size.bodyHeight;
  const canvas = document.createElement('canvas');
  canvas.width = size.width * EXPORT_SCALE;
  canvas.height = height * EXPORT_SCALE;
  const ctx = canvas.getContext('2d')!;
  ctx.scale(EXPORT_SCALE, EXPORT_SCALE);
  ctx.fillStyle = formatColor(theme.background);
  ctx.fillRect(0, 0, size.width, height);
  paint.legend(ctx);
  ctx.translate(0, size.legendHeight);
  paint.body(ctx);
  return composePng(canvas, caption, theme);
}

function wrap(ctx: CanvasRenderingContext2D, text: string, width: number): string[] {
  const words = text.split(' ');
  const out: string[] = [];
  let line = '';
  for (const w of words) {
    const next = line ? `${line} ${w}` : w;
    if (line && ctx.measureText(next).width > width) {
      out.push(line);
      line = w;
    } else line = next;
  }
  if (line) out.push(line);
  return out;
}
