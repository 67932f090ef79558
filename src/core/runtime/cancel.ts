/** The error a cancelled run ends with, wherever in the engine it stops. */
export class ProfileCancelledError extends Error {
  constructor() {
    super('Profiling was cancelled.');
    this.name = 'AbortError';
  }
}
