/**
 * Test helpers for every part: isomorphic byte helpers, the faults the
 * tests play (a lying provider, a flaky network) and a poll for state that
 * raises no event. Never imported by the product (see .dependency-cruiser.cjs).
 */
export { randomBytes, concat, sha256, toHex, fromHex } from './bytes.ts'
export { cheatingRunner, mismatchingTap, runnerWith } from './market-faults.ts'
export { faultyTap } from './transfer-faults.ts'
export type { TransferFaults } from './transfer-faults.ts'
export { until } from './wait.ts'
export { wrongCase } from './address-case.ts'
