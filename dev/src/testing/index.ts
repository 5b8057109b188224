/** `@quickdeal/dev/testing`: what tests across the packages share (Kubernetes helpers: `@quickdeal/dev/testing/kubernetes`). */
export { launchChromium, screenshotDir } from './browser.js';
export { eventually } from './eventually.js';
export { listenLocally, serveService, startHttpStack, type HttpStack, type ServedService } from './http-stack.js';
export { kubectl, run, type CommandResult } from './kubectl.js';
export { uniqueName } from './names.js';
export { freePort, metricValue, nodeEntry, startProcess, waitForHttp } from './processes.js';
export { startPrometheus, type PrometheusInstance } from './prometheus-instance.js';
export { startWaitingRoom, type WaitingRoom, type WaitingRoomOptions } from './waiting-room.js';
export { holdFaultServers } from './fault-lock.js';
export { killHard, startServiceProcess, type ServiceProcess } from './service-process.js';
export { createShopSessions, type ShopSessions } from './shop-sessions.js';
export { startFaultRoom, type FaultRoom } from './fault-room.js';
export { applyOpenDeal, recordTicket } from './store-deal.js';
export { startTcpGate, type TcpGate } from './tcp-gate.js';
