/** What to do first, when there are no results yet. */
import { button, el } from '../dom';
import type { Host } from '../host';

export function emptyState(host: Host): HTMLElement {
  return el(
    'div',
    { class: 'empty', id: 'empty', 'data-testid': 'empty' },
    el('p', { class: 'empty-title' }, 'Profile a selection or a folder to see results'),
    el('p', { class: 'empty-hint' }, 'Each dataset of texts (a selection, a file, a folder) gets a line per chart, so you can compare how each layer reacts to them.'),
    el(
      'div',
      { class: 'button-row' },
      button('Profile Selection', () => host.command('profileSelection'), { key: 'empty:profileSelection' }),
      button('Profile Folder…', () => host.command('profileFolder'), { secondary: true, key: 'empty:profileFolder' }),
      button('Choose Model…', () => host.command('chooseModel'), { secondary: true, key: 'empty:chooseModel' }),
    ),
  );
}
