import { isAbsolute, resolve } from 'node:path'
import { parseRelayAddr } from '../../shared/p2p-service/index.ts'
import { InvalidConfigError } from '../../shared/errors.ts'
import { formatHelp, parseOptions } from '../config/options.ts'
import type { OptionSpec } from '../config/options.ts'

export interface DeployConfig {
  /** The relay's DNS name, already pointing at this machine. */
  domain: string
  /** Let's Encrypt's contact for expiry notices; none registers without one. */
  email?: string
  /** Relays to join (multiaddrs ending in /p2p/<peer ID>). */
  seeds: string[]
  /** Serve certbot's challenge from this folder (a web server already on port 80) instead of certbot's own server. */
  webroot?: string
  /** The HTTPS page, /status and /healthz. */
  httpPort: number
  /** Where files go: `/` on the VPS, a scratch folder to look first. */
  root: string
  /** Print the commands instead of running them. */
  dryRun: boolean
}

export const DEPLOY_OPTIONS: OptionSpec[] = [
  { name: 'domain', type: 'string', placeholder: '<name>', description: 'The relay\'s DNS name (an A record for this machine), e.g. relay.example.org' },
  { name: 'email', type: 'string', placeholder: '<address>', description: 'Contact for Let\'s Encrypt (expiry notices); without it, none is registered' },
  { name: 'seed', type: 'list', default: [], placeholder: '<multiaddr,...>', description: 'Relays to join into one network (each ending in /p2p/<peer ID>)' },
  { name: 'webroot', type: 'string', placeholder: '<dir>', description: 'Answer certbot\'s challenge from this folder of the web server already on port 80 (default: certbot\'s own server on port 80)' },
  { name: 'http-port', type: 'port', default: 443, placeholder: '<port>', description: 'Port of the HTTPS page, /status and /healthz' },
  { name: 'root', type: 'string', default: '/', placeholder: '<dir>', description: 'Write every file under this folder instead of / (to look at them first; needs --dry-run)' },
  { name: 'dry-run', type: 'boolean', default: false, description: 'Print the commands (systemctl, certbot, apt-get) instead of running them' }
]

export const DEPLOY_HELP = formatHelp(
  'npm run deploy -- --domain <name> [options]',
  'Installs a public Golem Clay relay on this Debian/Ubuntu machine: the systemd\nservice, its settings, a Let\'s Encrypt certificate (certbot) and its renewal,\nthen starts it and prints its addresses. Run as root from the checkout, after\nnpm install and npm run build.',
  DEPLOY_OPTIONS
)

// RFC 1123 labels; the last one alphabetic, so an IP address is not taken for a name
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/
const TLD = /^[a-z][a-z0-9-]*$/

/** A DNS name a certificate can be issued for: lowercase, at least two labels, no IP address, no wildcard. */
export function parseDomain (text: string | undefined): string {
  if (text == null || text.trim() === '') throw new InvalidConfigError('--domain is required: the relay\'s DNS name, e.g. --domain relay.example.org')
  const domain = text.trim().toLowerCase().replace(/\.$/, '')
  const labels = domain.split('.')
  if (domain.length > 253 || labels.length < 2 || !labels.every(l => LABEL.test(l)) || !TLD.test(labels[labels.length - 1] ?? '')) {
    throw new InvalidConfigError(`--domain must be a DNS name such as relay.example.org (letters, digits, hyphens; no IP address, scheme or port), got "${text}"`)
  }
  return domain
}

/** The deploy command's flags (no env vars: one command, typed once), checked before anything is touched. */
export function parseDeployConfig (argv: string[], cwd = process.cwd()): { help: true } | { help: false, config: DeployConfig } {
  const { values: v, help } = parseOptions(DEPLOY_OPTIONS, argv, {})
  if (help) return { help }
  const domain = parseDomain(v.domain as string | undefined)
  const email = typeof v.email === 'string' && v.email.trim() !== '' ? v.email.trim() : undefined
  if (email != null && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new InvalidConfigError(`--email must be an email address, got "${email}"`)
  const seeds = (v.seed as string[]).map(text => {
    const seed = parseRelayAddr(text)
    if (!seed.getComponents().some(c => c.name === 'p2p')) throw new InvalidConfigError(`--seed ${text} must end with /p2p/<peer ID>`)
    return seed.toString()
  })
  const webroot = typeof v.webroot === 'string' && v.webroot !== '' ? v.webroot : undefined
  if (webroot != null && !isAbsolute(webroot)) throw new InvalidConfigError(`--webroot must be an absolute path, got "${webroot}"`)
  const root = resolve(cwd, v.root as string)
  const dryRun = v['dry-run'] === true
  // files under a scratch root while the commands act on this machine would leave it half set up
  if (root !== '/' && !dryRun) throw new InvalidConfigError('--root needs --dry-run: the commands it prints would act on this machine, not on the files under --root')
  const httpPort = v['http-port'] as number
  if (httpPort === 0) throw new InvalidConfigError('--http-port must be a fixed port (browsers are sent to it)')
  return {
    help,
    config: { domain, ...(email != null ? { email } : {}), seeds, ...(webroot != null ? { webroot } : {}), httpPort, root, dryRun }
  }
}
