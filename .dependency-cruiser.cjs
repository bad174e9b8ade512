/**
 * The architecture's rules, checked in `npm test` (`npm run lint:deps`):
 * every part of shared/ is used through its index.ts, nothing depends in a
 * circle, the isomorphic core imports no Node or browser-only module, and
 * test and bench code stays out of the product.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle between modules is a design question, not an import trick.',
      from: {},
      to: { circular: true }
    },
    {
      name: 'parts-through-their-index',
      severity: 'error',
      comment: 'A part of shared/ is used through its index.ts: its public surface. Only its own files (and its tests) reach inside.',
      from: { path: '^shared/([^/]+)/' },
      to: { path: '^shared/[^/]+/.+', pathNot: ['^shared/$1/', '^shared/[^/]+/index\\.ts$'] }
    },
    {
      name: 'apps-through-the-index',
      severity: 'error',
      comment: 'The relay, the page, the contracts\' code, benches, e2e tests and tasks use shared/ parts through their index.ts.',
      from: { path: '^(relay|contracts|web|bench|e2e|tasks)/' },
      to: { path: '^shared/[^/]+/.+', pathNot: '^shared/[^/]+/index\\.ts$' }
    },
    {
      name: 'shared-is-isomorphic',
      severity: 'error',
      comment: 'shared/ runs in tabs and on Node: no Node built-ins (Node-only tests are named *.node.test.ts).',
      from: { path: '^shared/', pathNot: '\\.node\\.test\\.ts$' },
      to: { dependencyTypes: ['core'] }
    },
    {
      name: 'shared-stands-alone',
      severity: 'error',
      comment: 'shared/ is the core the apps are built on: it imports none of them, nor tests, benches or demo tasks.',
      from: { path: '^shared/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(relay|web|bench|e2e|tasks)/' }
    },
    {
      name: 'apps-apart',
      severity: 'error',
      comment: 'The page and the relay share code only through shared/.',
      from: { path: '^web/' },
      to: { path: '^relay/' }
    },
    {
      name: 'relay-not-page',
      severity: 'error',
      from: { path: '^relay/' },
      to: { path: '^web/' }
    },
    {
      name: 'benches-share-through-common',
      severity: 'error',
      comment: 'A bench uses other benches\' code only through bench/common: its index.ts (Node), or timing.ts (what bench pages may import too).',
      from: { path: '^bench/([^/]+)/' },
      to: { path: '^bench/[^/]+/', pathNot: ['^bench/$1/', '^bench/common/(index|timing)\\.ts$'] }
    },
    {
      name: 'no-test-code-in-the-product',
      severity: 'error',
      comment: 'Benches, test pages, e2e fixtures and test helpers are never part of what a visitor or a relay runs.',
      from: { path: '^(shared|relay|contracts|web/src)/', pathNot: ['\\.test\\.ts$', '^relay/testing/', '^shared/testing/'] },
      to: { path: ['^(bench|e2e)/', '\\.test\\.ts$', '^relay/testing/', '^shared/testing/', '^web/(bench|test-pages)/'] }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^dist/', '^node_modules/'] },
    tsPreCompilationDeps: false,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs', '.svelte'] },
    reporterOptions: { text: { highlightFocused: true } }
  }
}
