/** worker_threads entry of the Node hashcash pool; spawned by node-solver.ts. */
import { parentPort } from 'node:worker_threads'
import { handleWorkerMessages } from '../../shared/hashcash/index.ts'

const port = parentPort
if (port == null) throw new Error('hashcash-worker.ts must run in a worker thread')
const onMessage = handleWorkerMessages({ post: (message) => { port.postMessage(message) } })
port.on('message', onMessage)
