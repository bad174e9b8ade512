// Node 20 ignores ESM loader flags in a Worker's execArgv (nodejs/node#47747),
// so the worker registers tsx itself before loading the TypeScript entry.
import { register } from 'tsx/esm/api'

register()
await import('./sandbox-worker.ts')
