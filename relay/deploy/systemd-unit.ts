import { readFile } from 'node:fs/promises'
import { isAbsolute } from 'node:path'
import { InvalidConfigError } from '../../shared/errors.ts'

export interface SystemdUnitInit {
  /** The checkout the relay runs from (absolute), after `npm install` and `npm run build`. */
  appDir: string
  /** More relay flags, e.g. `['--announce', '/dns4/relay.example.org/tcp/443/wss']`. @default none */
  args?: string[]
}

const TEMPLATE = new URL('./golem-clay-relay.service.in', import.meta.url)

/** A systemd unit for the relay, from relay/deploy/golem-clay-relay.service.in. */
export async function renderSystemdUnit (init: SystemdUnitInit): Promise<string> {
  if (!isAbsolute(init.appDir) || /[\s"'\\%$]/.test(init.appDir)) {
    throw new InvalidConfigError(`The relay's folder must be an absolute path without spaces, quotes, % or $: "${init.appDir}"`)
  }
  for (const arg of init.args ?? []) {
    if (/[\s"'\\%$;]/.test(arg)) throw new InvalidConfigError(`Relay flag values in the unit may not hold spaces, quotes, %, $ or ;: "${arg}"`)
  }
  const template = await readFile(TEMPLATE, 'utf8')
  return template.replaceAll('@APP_DIR@', init.appDir).replace('@ARGS@', (init.args ?? []).join(' ')).replace(/ +\n/g, '\n')
}
