/**
 * Colours that do not depend on the theme's chart colours: the datasets' qualitative palette
 * (Okabe & Ito 2008, distinct under the common colour-vision deficiencies) and the heatmap's
 * sequential scale (viridis, perceptually uniform with lightness rising monotonically).
 */

/**
 * Okabe–Ito, one hue per dataset index. Yellow and black cannot both read on one background:
 * light themes get a darkened yellow, dark themes a light grey for the eighth colour.
 * Past eight, colours repeat and the point shape (SERIES_SHAPES) still tells datasets apart.
 */
export const OKABE_ITO_LIGHT = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#9A8700', '#000000'] as const;
export const OKABE_ITO_DARK = ['#56B4E9', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#3E9BD6', '#F0E442', '#D9D9D9'] as const;

/** Chart.js point styles, one per dataset index, so a series is told apart by shape as well as colour. */
export const SERIES_SHAPES = ['circle', 'triangle', 'rect', 'rectRot', 'star', 'crossRot', 'rectRounded', 'cross'] as const;

export function seriesShape(colorIndex: number): (typeof SERIES_SHAPES)[number] {
  return SERIES_SHAPES[((colorIndex % SERIES_SHAPES.length) + SERIES_SHAPES.length) % SERIES_SHAPES.length];
}

/** Viridis (matplotlib), sampled at 9 evenly spaced points from low to high. */
export const VIRIDIS = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'] as const;
