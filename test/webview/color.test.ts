/** Colour arithmetic and persisted UI state of the webview (pure parts, no DOM). */
import assert from 'node:assert/strict';
import { formatColor, luminance, mix, parseColor, scaleColor, withAlpha } from '../../webview/color';
import { DEFAULT_UI_STATE, parseUiState } from '../../webview/uiState';

describe('webview colours', () => {
  it('parses the forms VS Code theme variables take', () => {
    assert.deepEqual(parseColor('#abc'), { r: 170, g: 187, b: 204, a: 1 });
    assert.deepEqual(parseColor(' #3794FF '), { r: 55, g: 148, b: 255, a: 1 });
    assert.deepEqual(parseColor('#ffffff80'), { r: 255, g: 255, b: 255, a: 128 / 255 });
    assert.deepEqual(parseColor('rgba(1, 2, 3, 0.5)'), { r: 1, g: 2, b: 3, a: 0.5 });
    assert.deepEqual(parseColor('rgb(10 20 30)'), { r: 10, g: 20, b: 30, a: 1 });
    assert.equal(parseColor('var(--x)'), undefined);
    assert.equal(parseColor('#12345'), undefined);
  });

  it('makes colours translucent and leaves unknown ones alone', () => {
    assert.equal(withAlpha('#ff0000', 0.5), 'rgba(255, 0, 0, 0.5)');
    assert.equal(withAlpha('#ff000080', 0.5), 'rgba(255, 0, 0, 0.251)');
    assert.equal(withAlpha('red', 0.5), 'red');
  });

  it('blends along a scale of stops', () => {
    const black = { r: 0, g: 0, b: 0, a: 1 };
    const white = { r: 255, g: 255, b: 255, a: 1 };
    const red = { r: 255, g: 0, b: 0, a: 1 };
    assert.equal(formatColor(mix(black, white, 0.5)), 'rgb(128, 128, 128)');
    assert.deepEqual(scaleColor([black, red, white], 0.5), red);
    assert.deepEqual(scaleColor([black, red, white], 1), white);
    assert.deepEqual(scaleColor([black, red, white], -1), black);
    assert.equal(formatColor(scaleColor([black, red, white], 0.75)), 'rgb(255, 128, 128)');
  });

  it('computes WCAG luminance', () => {
    assert.equal(luminance({ r: 255, g: 255, b: 255, a: 1 }), 1);
    assert.equal(luminance({ r: 0, g: 0, b: 0, a: 1 }), 0);
  });
});

describe('webview UI state', () => {
  it('keeps valid fields and drops the rest', () => {
    assert.deepEqual(parseUiState({ version: 1, openTables: ['mean', 3], heatmapPerLayer: false }), { version: 1, openTables: ['mean'], heatmapPerLayer: false, yFromZero: false, lensShade: 'probability' });
  });

  it('starts over for another version or garbage', () => {
    assert.deepEqual(parseUiState({ version: 2, openTables: ['mean'] }), DEFAULT_UI_STATE);
    assert.deepEqual(parseUiState(undefined), DEFAULT_UI_STATE);
    assert.deepEqual(parseUiState('x'), DEFAULT_UI_STATE);
  });
});
