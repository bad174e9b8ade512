import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/**
 * A Debian tool a deploy test checks its files with (nginx, promtool, …):
 * found on PATH, or in /usr/sbin, which a user's PATH often lacks. `.ci/run`
 * installs each one, so CI always runs these tests; on a machine without
 * one, the test is skipped, naming the package to install.
 */
export function debianTool (command: string, pkg: string): { available: boolean, path: string, skipReason: string } {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(d => d !== ''), '/usr/sbin', '/sbin']
  const path = dirs.map(dir => join(dir, command)).find(file => {
    try {
      accessSync(file, constants.X_OK)
      return true
    } catch {
      return false
    }
  })
  const skipReason = `skipped: ${command} is not installed (apt-get install ${pkg}; .ci/run installs it)`
  if (path == null) console.warn(skipReason)
  return { available: path != null, path: path ?? command, skipReason }
}
