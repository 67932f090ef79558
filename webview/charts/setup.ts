/**
 * Chart.js with only the parts the views use (a smaller bundle than chart.js/auto), plus the
 * error-bar controllers. Animations are off: snapshots arrive often during a run, and UI tests
 * screenshot charts that must be final the moment they are drawn.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type Plugin } from 'chart.js';
import { BarWithErrorBar, BarWithErrorBarsController, LineWithErrorBarsController, PointWithErrorBar } from 'chartjs-chart-error-bars';

let registered = false;

export function setupCharts(): void {
  if (registered) return;
  registered = true;
  Chart.register(LineController, LineElement, PointElement, BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip, LineWithErrorBarsController, PointWithErrorBar, BarWithErrorBarsController, BarWithErrorBar);
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
}

/**
 * Paints the chart's background with the theme's, so an exported PNG is not transparent (it would
 * turn light text unreadable in an image viewer); on screen it matches the page and is invisible.
 */
export function backgroundPlugin(color: () => string): Plugin {
  return {
    id: 'themeBackground',
    beforeDraw(chart) {
      const { ctx, width, height } = chart;
      ctx.save();
      ctx.fillStyle = color();
      ctx.fillRect(0, 0, width, height);
      ctx.restore();
    },
  };
}
