#!/usr/bin/env -S node --import tsx
// One-command public relay on a Debian/Ubuntu VPS (from the checkout, after
// npm install and npm run build):
//   sudo npm run deploy -- --domain relay.example.org [--email you@example.org] [--seed <multiaddr>]
// Look first: npm run deploy -- --domain relay.example.org --dry-run --root /tmp/relay-root
// Bad input exits 2 (one line saying what to change), a failed step 1.
import { resolve } from 'node:path'
import { runMain } from '../bin/run-main.ts'
import { DEPLOY_HELP, parseDeployConfig } from './deploy-config.ts'
import { DeployError, deployRelay } from './deploy-relay.ts'

const appDir = resolve(new URL('../../', import.meta.url).pathname)

await runMain('golem-clay-deploy', async ({ print }) => {
  const parsed = parseDeployConfig(process.argv.slice(2))
  if (parsed.help) {
    process.stdout.write(DEPLOY_HELP)
    return 'exit'
  }
  try {
    await deployRelay({ ...parsed.config, appDir, print })
  } catch (err: any) {
    if (!(err instanceof DeployError)) throw err
    process.stderr.write(`golem-clay-deploy: ${err.message}\n`)
    process.exit(1)
  }
  return 'exit'
})
