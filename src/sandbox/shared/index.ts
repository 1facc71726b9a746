export { CONTROL_PREFIX } from './controls.js';
export type {
  RouteHandler,
  RouteMatch,
  RouteParams,
  Router,
  RouterFallbacks,
} from './router.js';
export { createRouter, routerHandler } from './router.js';
export type { StartedSandbox, StartSandboxOptions } from './server.js';
export { startSandboxServer } from './server.js';
export type {
  Fault,
  FaultRule,
  RecordedRequest,
  SandboxControls,
  SandboxHandler,
  SandboxResponse,
} from './types.js';
