// Loaded into the app by the benchmark (`node --require`) for the request-logging comparison:
// the process switches its log level between `warn` and `info` every BENCH_LOG_PHASE_MS
// (250) and counts, for each level, the responses it finished, the time and its CPU time.
// Two processes compared in turns differed by up to 8% at the same level on the 401 path;
// one process compared with itself, in phases a quarter of a second long, sees the same
// machine and the same JIT state at both levels. Nothing else of the app changes: pino's
// factory is wrapped only to know the loggers it makes.
'use strict';

const { renameSync, writeFileSync } = require('node:fs');
const { ServerResponse } = require('node:http');
const pinoModule = require('pino');

const file = process.env.BENCH_LOG_PHASES_FILE;
if (!file) {
  throw new Error('log-level-phases.cjs needs BENCH_LOG_PHASES_FILE');
}
const phaseMs = Number(process.env.BENCH_LOG_PHASE_MS || 250);

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

const levels = ['warn', 'info'];
const totals = Object.fromEntries(levels.map((level) => [level, { phases: 0, responses: 0, ms: 0, cpuMs: 0 }]));
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

/** Adds the phase that ends now to its level's totals and writes them (whole: a rename). */
function endPhase() {
  const now = performance.now();
  const cpu = process.cpuUsage(cpuAtStart);
  const total = totals[current];
  total.phases++;
  total.responses += responses;
  total.ms += now - startedAt;
  total.cpuMs += (cpu.user + cpu.system) / 1000;
  responses = 0;
  writeFileSync(`${file}.tmp`, JSON.stringify(totals));
  renameSync(`${file}.tmp`, file);
}

function switchLevel() {
  endPhase();
  current = current === 'info' ? 'warn' : 'info';
  for (const logger of loggers) {
    logger.level = current;
  }
  startedAt = performance.now();
  cpuAtStart = process.cpuUsage();
}

writeFileSync(file, JSON.stringify(totals));
setInterval(switchLevel, phaseMs).unref();
// The last phase too: the benchmark compares the info phases' responses with the request lines.
process.on('exit', endPhase);
