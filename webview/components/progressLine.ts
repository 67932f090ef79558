/** The running job, in one line: what, how far, how long left, and a Cancel button. */
import type { RunProgress } from '../../src/shared/protocol';
import { button, el } from '../dom';
import type { Host } from '../host';

export class ProgressLine {
  readonly root: HTMLElement;
  private readonly text = el('span', { class: 'progress-text', role: 'status', 'aria-live': 'polite', 'data-testid': 'progress-text' });
  private readonly bar = el('vscode-progress-bar', { class: 'progress-bar' }) as HTMLElement & { value?: number; max: number; indeterminate: boolean };

  constructor(host: Host) {
    const cancel = button('Cancel', () => host.command('cancel'), { secondary: true, key: 'cancel', ariaLabel: 'Cancel the running profile' });
    this.root = el('div', { class: 'progress', id: 'progress', 'data-testid': 'progress', hidden: true }, el('div', { class: 'progress-row' }, this.text, cancel), this.bar);
  }

  update(progress: RunProgress | undefined): void {
    this.root.hidden = !progress;
    if (!progress) return;
    this.text.textContent = describeProgress(progress);
    const known = progress.textsTotal > 0;
    this.bar.indeterminate = !known;
    this.bar.max = known ? progress.textsTotal : 1;
    this.bar.value = known ? Math.min(progress.textsDone, progress.textsTotal) : undefined;
    this.bar.setAttribute('aria-label', progress.title);
  }
}

export function describeProgress(p: RunProgress): string {
  const parts = [p.title];
  if (p.textsTotal > 0) parts.push(`${p.textsDone.toLocaleString('en-US')} of ${p.textsTotal.toLocaleString('en-US')} texts`);
  if (p.tokensDone > 0) parts.push(`${p.tokensDone.toLocaleString('en-US')} tokens`);
  if (p.secondsLeft !== undefined && Number.isFinite(p.secondsLeft)) parts.push(`about ${formatDuration(p.secondsLeft)} left`);
  return parts.join(' · ');
}

function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
