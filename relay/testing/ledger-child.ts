// A Node process saving ledger entries one after another until its file
// size limit (set by the test with `ulimit -f`) makes a write fail: prints
// the keys whose saves resolved, then the error, as JSON lines. For
// relay/node-peer/file-ledger-stores.test.ts.
import { fileLedgerStores } from '../node-peer/file-ledger-stores.ts'

const [dir, ns] = process.argv.slice(2) as [string, string]
const store = fileLedgerStores(dir).book(ns)
const pad = 'x'.repeat(200)
for (let i = 0; i < 100; i++) {
  const key = `0x${String(i).padStart(40, '0')}`
  try {
    await store.save(key, { assigned: BigInt(i), cumulative: 1n, pad } as any)
    console.log(JSON.stringify({ saved: key }))
  } catch (err: any) {
    console.log(JSON.stringify({ failed: key, error: err.code ?? err.message }))
    break
  }
}
