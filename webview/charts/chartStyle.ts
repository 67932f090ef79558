/** Theme-driven pieces shared by every Chart.js chart: axes, legend, tooltip, background. */
import type { ChartOptions, ScaleOptions } from 'chart.js';
import { formatColor, withAlpha } from '../color';
import type { Theme } from '../theme';

export function fontOf(theme: Theme, size = 12) {
  return { family: theme.fontFamily, size };
}

export function backgroundColor(theme: Theme): string {
  return formatColor(theme.background);
}

export function gridColor(theme: Theme): string {
  // High-contrast borders are strong colours: as a grid they would compete with the data.
  return withAlpha(theme.grid, theme.kind.startsWith('high-contrast') ? 0.3 : 0.6);
}

/** A linear or category axis in theme colours; the zero line is drawn stronger when it shows. */
export function axis(theme: Theme, title: string | undefined, extra: Record<string, unknown> = {}): ScaleOptions<'linear'> {
  const grid = gridColor(theme);
  return {
    title: { display: title !== undefined, text: title ?? '', color: theme.muted, font: fontOf(theme, 12) },
    ticks: { color: theme.muted, font: fontOf(theme, 11) },
    grid: { color: (ctx: { tick?: { value: number } }) => (ctx.tick?.value === 0 ? withAlpha(theme.muted, 0.8) : grid) },
    border: { color: theme.grid },
    ...extra,
  } as unknown as ScaleOptions<'linear'>;
}

export function legend(theme: Theme, compact = false): NonNullable<ChartOptions['plugins']>['legend'] {
  return {
    position: compact ? 'bottom' : 'top',
    align: 'start',
    labels: { color: theme.foreground, font: fontOf(theme, compact ? 11 : 12), usePointStyle: true, boxWidth: 8, boxHeight: 8, padding: compact ? 8 : 14 },
  } as NonNullable<ChartOptions['plugins']>['legend'];
}

export function tooltip(theme: Theme): NonNullable<ChartOptions['plugins']>['tooltip'] {
  return {
    backgroundColor: theme.tooltip.background,
    titleColor: theme.tooltip.foreground,
    bodyColor: theme.tooltip.foreground,
    borderColor: theme.tooltip.border,
    borderWidth: 1,
    titleFont: fontOf(theme, 12),
    bodyFont: fontOf(theme, 12),
    cornerRadius: 3,
    boxPadding: 4,
    usePointStyle: true,
  } as NonNullable<ChartOptions['plugins']>['tooltip'];
}
