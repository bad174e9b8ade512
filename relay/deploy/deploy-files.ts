import type { DeployConfig } from './deploy-config.ts'

/** The service `npm run deploy` installs, and where its pieces live on the machine. */
export const SERVICE = 'golem-clay-relay.service'
export const DEPLOY_PATHS = {
  unit: `/etc/systemd/system/${SERVICE}`,
  dropIn: `/etc/systemd/system/${SERVICE}.d/public-relay.conf`,
  env: '/etc/golem-clay/relay.env',
  hook: '/etc/golem-clay/certbot-deploy-hook',
  tlsDir: '/etc/golem-clay/tls'
} as const

/** A static group that may read the relay's TLS key (the service's dynamic user joins it). */
export const TLS_GROUP = 'golem-clay-tls'

/** The relay's defaults for its public listeners (npm run relay -- --help). */
export const WSS_PORT = 9443
export const TCP_PORT = 9091
export const METRICS_LISTEN = '127.0.0.1:9464'

export const letsencryptLive = (domain: string): string => `/etc/letsencrypt/live/${domain}`

/** Where tabs (secure WebSockets) and Node peers and relays (TCP) reach the relay. */
export function announceAddrs (config: Pick<DeployConfig, 'domain'>): string[] {
  return [`/dns4/${config.domain}/tcp/${WSS_PORT}/tls/ws`, `/dns4/${config.domain}/tcp/${TCP_PORT}`]
}

export function pageUrl (config: Pick<DeployConfig, 'domain' | 'httpPort'>): string {
  return `https://${config.domain}${config.httpPort === 443 ? '' : `:${config.httpPort}`}/`
}

/** Ports to open in the firewall, and why. /metrics is not among them: it stays on loopback. */
export function publicPorts (config: Pick<DeployConfig, 'httpPort' | 'webroot'>): Array<{ port: number, why: string }> {
  return [
    ...(config.webroot == null ? [{ port: 80, why: 'certificate renewals (certbot answers Let\'s Encrypt there)' }] : []),
    { port: config.httpPort, why: 'the page, /status, /healthz (HTTPS)' },
    { port: WSS_PORT, why: 'secure WebSockets (tabs)' },
    { port: TCP_PORT, why: 'TCP (Node peers, other relays)' }
  ]
}

/** /etc/golem-clay/relay.env: the relay's GOLEM_CLAY_* settings for this domain. */
export function renderRelayEnv (config: DeployConfig): string {
  const lines = [
    '# Golem Clay relay settings (GOLEM_CLAY_* variables, see npm run relay -- --help),',
    `# written by npm run deploy -- --domain ${config.domain}; running it again rewrites`,
    '# this file (the previous one is kept as relay.env.bak). systemctl restart golem-clay-relay applies it.',
    `GOLEM_CLAY_HTTP_PORT=${config.httpPort}`,
    `GOLEM_CLAY_WSS_PORT=${WSS_PORT}`,
    `GOLEM_CLAY_ANNOUNCE=${announceAddrs(config).join(',')}`,
    // copies certbot's deploy hook keeps readable for the service (see the drop-in)
    `GOLEM_CLAY_TLS_CERT=${DEPLOY_PATHS.tlsDir}/fullchain.pem`,
    `GOLEM_CLAY_TLS_KEY=${DEPLOY_PATHS.tlsDir}/privkey.pem`,
    `GOLEM_CLAY_METRICS_LISTEN=${METRICS_LISTEN}`
  ]
  if (config.seeds.length > 0) lines.push(`GOLEM_CLAY_SEEDS=${config.seeds.join(',')}`)
  return `${lines.join('\n')}\n`
}

/** What a public relay adds to relay/deploy/golem-clay-relay.service.in, as a drop-in. */
export function renderDropIn (config: DeployConfig): string {
  const lines = [
    `# Written by npm run deploy -- --domain ${config.domain}: what a public relay adds to ${SERVICE}.`,
    '[Service]',
    '# The TLS key stays root\'s: certbot\'s deploy hook copies it into',
    `# ${DEPLOY_PATHS.tlsDir} (root:${TLS_GROUP}, 0750; files 0640) and the service's`,
    '# dynamic user joins that group. Not LoadCredential=: systemd copies credentials',
    '# only when the service starts, and a renewed certificate must reach the running',
    '# relay on systemctl reload (SIGHUP) without dropping its sessions.',
    `SupplementaryGroups=${TLS_GROUP}`
  ]
  if (config.httpPort < 1024) {
    lines.push(
      `# the HTTPS page on port ${config.httpPort}: the one capability the relay gets`,
      'AmbientCapabilities=CAP_NET_BIND_SERVICE',
      'CapabilityBoundingSet=CAP_NET_BIND_SERVICE'
    )
  }
  return `${lines.join('\n')}\n`
}

/**
 * certbot's deploy hook (certbot certonly --deploy-hook, kept for every
 * renewal of this certificate): copies the new certificate where the relay
 * may read it, each file renamed into place so the relay never reads half of
 * one, then asks a running relay to reload it.
 */
export function renderCertbotHook (config: DeployConfig): string {
  return `#!/bin/sh
# certbot deploy hook, written by npm run deploy -- --domain ${config.domain}.
# certbot sets RENEWED_LINEAGE to the certificate's folder; npm run deploy runs
# this once itself too, for a certificate certbot already had.
set -eu
lineage="\${RENEWED_LINEAGE:-${letsencryptLive(config.domain)}}"
dir=${DEPLOY_PATHS.tlsDir}
install -d -m 0750 -o root -g ${TLS_GROUP} "$dir"
for name in privkey fullchain; do
  install -m 0640 -o root -g ${TLS_GROUP} "$lineage/$name.pem" "$dir/.$name.pem.new"
  mv -f "$dir/.$name.pem.new" "$dir/$name.pem"
done
# reload (SIGHUP) only if the relay runs: sessions stay, the new certificate serves new connections
systemctl try-reload-or-restart ${SERVICE}
`
}
