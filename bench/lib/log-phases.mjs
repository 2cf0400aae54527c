// The request-logging comparison (BENCH_LOG_COMPARE=1): a second app process loaded with
// log-level-phases.cjs switches between LOG_LEVEL=warn and info every 250 ms and keeps, per
// level, its finished responses, time and CPU time in a file; a run's numbers are the
// difference of that file between the start and the end of its measured part.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR } from './options.mjs';
import { round } from './scenarios.mjs';

/** For `node --require`: makes the app alternate its level and count. */
export const LOG_PHASES_PRELOAD = join(BENCH_DIR, 'lib', 'log-level-phases.cjs');

export const LOG_PHASE_MS = 250;

const LEVELS = ['warn', 'info'];

function readTotals(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Per level: phases, responses, ms and CPU ms, as sums; then the rates they give. */
function rates(totals) {
  const out = {};
  for (const level of LEVELS) {
    const { phases, responses, ms, cpuMs } = totals[level];
    out[level] = {
      phases,
      responses,
      ms: round(ms, 1),
      cpuMs: round(cpuMs, 1),
      reqPerSec: ms > 0 ? round((responses / ms) * 1000, 1) : undefined,
      cpuUsPerRequest: responses > 0 ? round((cpuMs * 1000) / responses, 1) : undefined,
    };
  }
  const { warn, info } = out;
  out.ratio = warn.reqPerSec && info.reqPerSec !== undefined ? round(info.reqPerSec / warn.reqPerSec, 3) : undefined;
  // CPU per request at warn over that at info: 1 when a request line costs no CPU.
  out.cpuRatio =
    warn.cpuUsPerRequest && info.cpuUsPerRequest ? round(warn.cpuUsPerRequest / info.cpuUsPerRequest, 3) : undefined;
  return out;
}

/** A probe for `runScenario`: `reset()` when the measured part starts, `read()` when it ends. */
export function logPhaseProbe(file) {
  let start;
  return {
    reset() {
      start = readTotals(file);
    },
    read() {
      const end = readTotals(file);
      const difference = {};
      for (const level of LEVELS) {
        difference[level] = Object.fromEntries(
          Object.keys(end[level]).map((key) => [key, end[level][key] - start[level][key]]),
        );
      }
      return rates(difference);
    },
  };
}

/** The phases of several runs pooled: their sums, and the rates of the sums. */
export function poolPhases(runs) {
  const sums = {};
  for (const level of LEVELS) {
    sums[level] = { phases: 0, responses: 0, ms: 0, cpuMs: 0 };
    for (const run of runs) {
      for (const key of Object.keys(sums[level])) sums[level][key] += run[level][key];
    }
  }
  return rates(sums);
}

/** The totals of the whole process (read after it stopped: its last phase is in). */
export function totalPhases(file) {
  return rates(readTotals(file));
}
