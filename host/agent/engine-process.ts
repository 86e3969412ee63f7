// What `vigil engine` loads once it knows it is the engine (host/agent/engine-main.ts), behind one
// dynamic import: one module file to load on the way to the first advert, where each costs
// ~0.4 ms (packaging/bundle.ts puts these in the engine's chunk).
export { Engine } from './engine.ts';
export { enableRealtime } from '../net/realtime.ts';
export { parseReport } from '../checks/protocol.ts';
export { bindStatus, closeStatus, serveStatus } from './status-server.ts';
