#!/usr/bin/env node
// Where a CPU profile's time went, as text: `node bench/profile-summary.mjs FILE.cpuprofile
// [--requests N] [--top N] [--match REGEX]`. Profiles come from the app started with
// `--cpu-prof`, e.g. `BENCH_APP_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench
// -- --only unauthorized` (bench/README.md, "Profiles"). Prints the busy time (all but idle),
// the self time by package (node_modules package, app folder under dist/src, or Node's
// internals), the functions with the most self time, and the inclusive time of the functions
// whose "name file:line" matches --match. With --requests, the busy time per request.
import { readFile } from 'node:fs/promises';

function parseArguments(argv) {
  const options = { top: 25, requests: undefined, match: undefined, file: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--requests') options.requests = Number(argv[++i]);
    else if (arg === '--top') options.top = Number(argv[++i]);
    else if (arg === '--match') options.match = new RegExp(argv[++i]);
    else if (!arg.startsWith('--') && options.file === undefined) options.file = arg;
    else throw new Error(`Unexpected argument "${arg}"`);
  }
  if (options.file === undefined) {
    throw new Error('Usage: node bench/profile-summary.mjs FILE.cpuprofile [--requests N] [--top N] [--match REGEX]');
  }
  return options;
}

/** "package" of a frame: a node_modules package, the app's folder, Node's module, or the native name. */
function packageOf(frame) {
  const url = frame.url;
  const dependency = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (dependency) return dependency[1];
  const app = url.match(/\/dist\/src\/([^/]+)/);
  if (app) return `app: ${app[1].replace(/\.js$/, '')}`;
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/')[0]}`;
  return url === '' ? frame.functionName || '(native)' : url;
}

function labelOf(frame) {
  const file = frame.url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\/src\//, 'src/');
  return `${frame.functionName || '(anonymous)'} ${file}${file ? `:${frame.lineNumber + 1}` : ''}`;
}

const options = parseArguments(process.argv.slice(2));
const profile = JSON.parse(await readFile(options.file, 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

// Time per node: each sample's time delta goes to the node it hit.
const sampled = new Map();
profile.samples.forEach((id, i) => sampled.set(id, (sampled.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

const self = new Map();
const byPackage = new Map();
const inclusive = new Map();
let idle = 0;
for (const [id, micros] of sampled) {
  const frame = nodes.get(id).callFrame;
  if (frame.functionName === '(idle)') {
    idle += micros;
    continue;
  }
  const label = labelOf(frame);
  self.set(label, (self.get(label) ?? 0) + micros);
  const pkg = packageOf(frame);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
  // Inclusive: once per distinct function on the stack (recursion counted once).
  const seen = new Set();
  for (let at = id; at !== undefined; at = parents.get(at)) {
    const outer = labelOf(nodes.get(at).callFrame);
    if (!seen.has(outer)) {
      seen.add(outer);
      inclusive.set(outer, (inclusive.get(outer) ?? 0) + micros);
    }
  }
}
const busy = [...self.values()].reduce((a, b) => a + b, 0);
const share = (micros) => `${((100 * micros) / busy).toFixed(1)}%`.padStart(6);
const perRequest = (micros) => (options.requests ? `${(micros / options.requests).toFixed(2).padStart(7)} µs/req` : '');
const rows = (map, limit) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, micros]) => `${share(micros)} ${perRequest(micros)}  ${name}`);

const wall = (profile.endTime - profile.startTime) / 1000;
console.log(
  `${options.file}: ${wall.toFixed(0)} ms profiled, ${(busy / 1000).toFixed(0)} ms busy (${((100 * busy) / (busy + idle)).toFixed(0)}%)` +
    (options.requests
      ? `, ${options.requests} requests: ${(busy / options.requests).toFixed(1)} µs busy per request`
      : ''),
);
console.log('\nSelf time by package');
console.log(rows(byPackage, options.top).join('\n'));
console.log('\nFunctions with the most self time');
console.log(rows(self, options.top).join('\n'));
if (options.match) {
  const matching = new Map([...inclusive].filter(([name]) => options.match.test(name)));
  console.log(`\nInclusive time of the functions matching ${options.match}`);
  console.log(rows(matching, options.top).join('\n'));
}
