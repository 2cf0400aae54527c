// Loaded into the app by the benchmark (`node --require`) for the request-logging comparison:
// the process switches its log level between `warn` and `info` every BENCH_LOG_PHASE_MS
// (250 ms) and writes, for each phase, its level, the responses it finished, its time and the
// process's CPU time.
// Two processes compared in turns differed by up to 8% at the same level on the 401 path;
// one process compared with itself, in phases a quarter of a second long, sees the same
// machine and the same JIT state at both levels. Nothing else of the app changes: pino's
// factory is wrapped only to know the loggers it makes.
'use strict';

const { appendFileSync, writeFileSync } = require('node:fs');
const { ServerResponse } = require('node:http');
const pinoModule = require('pino');

// Both set by the benchmark (log-phases.mjs holds the phase length).
const file = process.env.BENCH_LOG_PHASES_FILE;
const phaseMs = Number(process.env.BENCH_LOG_PHASE_MS);
if (!file || !(phaseMs > 0)) {
  throw new Error('log-level-phases.cjs needs BENCH_LOG_PHASES_FILE and BENCH_LOG_PHASE_MS');
}
// The levels the "warn" and "info" phases set: `warn,warn` checks the method itself (both
// phases should then come out alike, within the noise).
const [warnPhaseLevel, infoPhaseLevel] = (process.env.BENCH_LOG_PHASE_LEVELS || 'warn,info').split(',');

const loggers = [];
const factory = pinoModule.pino;
function pino(...args) {
  const logger = factory(...args);
  loggers.push(logger);
  return logger;
}
Object.assign(pino, factory);
pinoModule.pino = pino;
pinoModule.default = pino;

let current = 'info';
let responses = 0;
let startedAt = performance.now();
let cpuAtStart = process.cpuUsage();

// Counted when the response is done, in the same call as Fastify's request line: both see one level.
const emit = ServerResponse.prototype.emit;
ServerResponse.prototype.emit = function countFinished(event, ...args) {
  if (event === 'finish') {
    responses++;
  }
  return emit.call(this, event, ...args);
};

/**
 * Appends the phase that ends now to the file, one JSON line: its level, its start and end
 * (epoch ms), the responses finished and the CPU ms. The benchmark keeps the phases that lie
 * wholly inside a measured part, so none of them holds idle time before or after the load.
 */
function endPhase() {
  const now = performance.now();
  const cpu = process.cpuUsage(cpuAtStart);
  const phase = {
    level: current,
    start: performance.timeOrigin + startedAt,
    end: performance.timeOrigin + now,
    responses,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
  responses = 0;
  appendFileSync(file, `${JSON.stringify(phase)}\n`);
}

function switchLevel() {
  endPhase();
  current = current === 'info' ? 'warn' : 'info';
  for (const logger of loggers) {
    logger.level = current === 'info' ? infoPhaseLevel : warnPhaseLevel;
  }
  startedAt = performance.now();
  cpuAtStart = process.cpuUsage();
}

writeFileSync(file, '');
setInterval(switchLevel, phaseMs).unref();
// The last phase too: the benchmark compares the info phases' responses with the request lines.
process.on('exit', endPhase);
