// The page as it ships, with seams the e2e suite drives: this tab's
// provider can lie about its results, and its storage transfers can meet a
// flaky network. Built only into the test build (vite.test.config.ts).
import { cheatingRunner, faultyTap } from '../../shared/testing/index.ts'
import { startApp } from '../src/app.ts'
import { createBrowserTaskRunner } from '../src/compute/browser-task-runner.ts'
import type { TransferFaults } from '../../shared/testing/index.ts'

export interface TestFaults {
  /** This tab's provider corrupts every result it returns (hashed as sent). */
  returnWrongResults: (on: boolean) => void
  /** Corrupt a chunk, drop the connection, or lie about the hash, once, on the next transfers. */
  injectFaults: (faults: TransferFaults) => void
}

declare global {
  interface Window {
    golemClayFaults?: TestFaults
  }
}

let cheating = false
const tap = faultyTap()
startApp({ node: { runner: (cores) => cheatingRunner(createBrowserTaskRunner({ cores }), () => cheating), storage: { tap } } })
window.golemClayFaults = {
  returnWrongResults: (on) => { cheating = on },
  injectFaults: (faults) => { tap.inject(faults) }
}
