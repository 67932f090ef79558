/** What the views need from any chart: an id (for export and tests) and a PNG of it. */
export interface ChartHandle {
  readonly id: string;
  /** A PNG data URL of the chart as drawn now, or undefined when there is nothing drawn. */
  toPng(): string | undefined;
  destroy(): void;
}
