// A Node process saving ledger entries one after another, for
// relay/node-peer/file-ledger-stores.test.ts. Prints each key whose save
// resolved, as a JSON line. Mode "fill" (default) goes on until a write
// fails (the test sets a file size limit with `ulimit -f`) and prints the
// error; mode "kill" saves five, then kills itself (SIGKILL) at once, before
// any background sync could run.
import { fileLedgerStores } from '../node-peer/file-ledger-stores.ts'

const [dir, ns, mode = 'fill'] = process.argv.slice(2) as [string, string, string?]
const store = fileLedgerStores(dir, { syncMs: 60_000 }).book(ns)
const pad = 'x'.repeat(200)
for (let i = 0; i < (mode === 'kill' ? 5 : 100); i++) {
  const key = `0x${String(i).padStart(40, '0')}`
  try {
    await store.save(key, { assigned: BigInt(i), cumulative: 1n, pad } as any)
    console.log(JSON.stringify({ saved: key }))
  } catch (err: any) {
    console.log(JSON.stringify({ failed: key, error: err.code ?? err.message }))
    break
  }
}
if (mode === 'kill') process.kill(process.pid, 'SIGKILL')
