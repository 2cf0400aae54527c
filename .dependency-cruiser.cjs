/**
 * The layers of src/ (see ARCHITECTURE.md), checked by `npm run lint`:
 *   wiring    main.ts, app.setup.ts, app.module.ts, docs/
 *   features  auth/ users/ sessions/ posts/ votes/ health/ home/ ...
 *   platform  database/ logging/ lifecycle/ entrance/ rate-limit/ mail/
 *   ground    config/ common/
 * Imports run downward only, and no module imports itself through others.
 */
const GROUND = '^src/(config|common)/';
const PLATFORM = '^src/(database|logging|lifecycle|entrance|rate-limit|mail)/';
const WIRING = '^src/(main|app\\.setup|app\\.module)\\.ts$|^src/docs/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A loop of imports: split the shared part out, below both.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'ground-imports-nothing-above',
      severity: 'error',
      comment: 'config/ and common/ are the ground: they know no platform part, feature or wiring.',
      from: { path: GROUND },
      to: { path: '^src/', pathNot: GROUND },
    },
    {
      name: 'config-is-below-common',
      severity: 'error',
      comment: 'config/ reads the environment and nothing else of ours.',
      from: { path: '^src/config/' },
      to: { path: '^src/common/' },
    },
    {
      name: 'platform-knows-no-feature',
      severity: 'error',
      comment: 'The platform serves every feature and imports none (entities come by autoLoadEntities).',
      from: { path: PLATFORM },
      to: { path: '^src/', pathNot: `${PLATFORM}|${GROUND}` },
    },
    {
      name: 'features-know-no-wiring',
      severity: 'error',
      comment: 'Only main.ts, app.setup.ts, app.module.ts and docs/ put the app together.',
      from: { path: '^src/', pathNot: WIRING },
      to: { path: WIRING },
    },
    {
      name: 'users-and-sessions-do-not-import-auth',
      severity: 'error',
      comment: 'auth/ builds on users/ and sessions/; what they need about the caller is in common/identity/.',
      from: { path: '^src/(users|sessions)/' },
      to: { path: '^src/auth/' },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module nothing imports is dead code (entry points and specs aside).',
      from: {
        orphan: true,
        pathNot: [
          '\\.spec\\.ts$',
          '^src/main\\.ts$',
          '^src/docs/write-openapi\\.ts$',
          '^src/database/migrations/',
          '\\.entity\\.ts$',
          '\\.d\\.ts$',
        ],
      },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
