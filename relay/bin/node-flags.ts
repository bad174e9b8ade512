/**
 * Node flags the relay and the Node peer run with (`npm start`, `npm run
 * relay`, `npm run peer`, tests and benchmarks alike). A relay's live heap is
 * small (~30 MB) while it streams many MB/s through short-lived buffers; with
 * V8's default limits that triggers a major GC every few MB (12 per 64 MiB
 * upload measured, ~0.4 s of CPU). Starting the old generation at 128 MB lets
 * them come at their natural pace (none in most such uploads); the idle
 * memory reducer still shrinks the heap afterwards.
 */
export const RELAY_NODE_FLAGS = ['--initial-old-space-size=128']
