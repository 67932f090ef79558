/** Engine child process entry: serves requests from the extension host over the IPC channel. */
import { isHostToEngine, type EngineToHost } from '../shared/engineProtocol';
import { EngineServer } from './engineServer';

if (!process.send) {
  process.stderr.write('The Layer Profiler engine runs as a child process of the extension host.\n');
  process.exit(2);
}

const server = new EngineServer((m: EngineToHost) => process.send?.(m));
process.on('message', (raw: unknown) => {
  if (isHostToEngine(raw)) server.handle(raw);
});
// The host going away (window closed, host crash) ends the engine too.
process.on('disconnect', () => {
  void server.dispose().finally(() => process.exit(0));
});
