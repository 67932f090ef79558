/**
 * The "Layer Profiler" Output channel and the notifications: everything worth reading later (the
 * engine's stderr, timings, errors) goes to the channel, and every error notification offers
 * "Show Log" next to its own actions.
 */
import * as vscode from 'vscode';

export const OUTPUT_CHANNEL_NAME = 'Layer Profiler';
const SHOW_LOG = 'Show Log';

export interface NotificationAction {
  title: string;
  run: () => unknown;
}

export class Notifier implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME, { log: true });
  /** Lines written, newest last (tests read them; the channel's own text is not readable through the API). */
  private readonly recent: string[] = [];

  log(line: string): void {
    this.channel.info(line);
    this.remember(line);
  }

  info(message: string): void {
    this.log(message);
    void vscode.window.showInformationMessage(`Layer Profiler: ${message}`);
  }

  /** Shows the error with `actions` and "Show Log"; resolves once it is dismissed or an action has run. */
  async error(message: string, actions: NotificationAction[] = []): Promise<void> {
    this.channel.error(message);
    this.remember(`Error: ${message}`);
    const pick = await vscode.window.showErrorMessage(`Layer Profiler: ${message}`, ...actions.map((a) => a.title), SHOW_LOG);
    if (pick === SHOW_LOG) this.channel.show(true);
    else await actions.find((a) => a.title === pick)?.run();
  }

  /** The last lines logged (at most 500). */
  lines(): readonly string[] {
    return this.recent;
  }

  private remember(line: string): void {
    this.recent.push(line);
    if (this.recent.length > 500) this.recent.splice(0, this.recent.length - 500);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
