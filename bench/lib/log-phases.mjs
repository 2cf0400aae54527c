// The request-logging comparison (BENCH_LOG_COMPARE=1): a second app process loaded with
// log-level-phases.cjs switches between LOG_LEVEL=warn and info every 250 ms and keeps, per
// phase, its level, finished responses, time and CPU time in a file; a run's numbers are
// the sums of the phases that lie wholly inside its measured part.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR } from './options.mjs';
import { round } from './scenarios.mjs';

/** For `node --require`: makes the app alternate its level and count. */
export const LOG_PHASES_PRELOAD = join(BENCH_DIR, 'lib', 'log-level-phases.cjs');

export const LOG_PHASE_MS = 250;

const LEVELS = ['warn', 'info'];

/** The phases the process has written so far (a line being written is left out). */
function readPhases(file) {
  const phases = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    try {
      phases.push(JSON.parse(line));
    } catch {
      // An empty last line, or one not written whole yet.
    }
  }
  return phases;
}

/** Per level: phases, responses, ms and CPU ms, all 0. */
function emptySums() {
  return Object.fromEntries(LEVELS.map((level) => [level, { phases: 0, responses: 0, ms: 0, cpuMs: 0 }]));
}

/** Per level: phases, responses, ms and CPU ms, as sums. */
function sumPhases(phases) {
  const sums = emptySums();
  for (const phase of phases) {
    const sum = sums[phase.level];
    sum.phases++;
    sum.responses += phase.responses;
    sum.ms += phase.end - phase.start;
    sum.cpuMs += phase.cpuMs;
  }
  return sums;
}

/** The sums, and the rates they give. */
function rates(sums) {
  const out = {};
  for (const level of LEVELS) {
    const { phases, responses, ms, cpuMs } = sums[level];
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

/**
 * A probe for `runScenario`: `reset()` when the load of the measured part starts, `read()`
 * when it ends. The phases that lie wholly between the two count; the one under way at
 * either end does not (it held idle time, or the drain).
 */
export function logPhaseProbe(file) {
  let start;
  return {
    reset() {
      start = Date.now();
    },
    read() {
      const end = Date.now();
      return rates(sumPhases(readPhases(file).filter((phase) => phase.start >= start && phase.end <= end)));
    },
  };
}

/** The phases of several runs pooled: their sums, and the rates of the sums. */
export function poolPhases(runs) {
  const sums = emptySums();
  for (const run of runs) {
    for (const level of LEVELS) {
      for (const key of Object.keys(sums[level])) sums[level][key] += run[level][key];
    }
  }
  return rates(sums);
}

/** Every phase of the process (read after it stopped: its last phase is in). */
export function totalPhases(file) {
  return rates(sumPhases(readPhases(file)));
}
