import { describe, expect, it } from 'vitest'
import { InvalidConfigError, InvalidMultiaddrError } from '../../shared/errors.ts'
import { parseOptions } from './options.ts'
import { parseRelayConfig, RELAY_OPTIONS } from './relay-config.ts'

describe('relay configuration', () => {
  it('has documented defaults', () => {
    const { config } = parseRelayConfig([], {})
    expect(config).toMatchObject({ host: '0.0.0.0', httpPort: 8080, wsPort: 9090, tcpPort: 9091, announce: [], maxReservations: 512 })
    expect(config.dataDir).toMatch(/\/data$/)
  })

  it('reads env vars, and flags win over them', () => {
    const env = { GOLEM_CLAY_HTTP_PORT: '8000', GOLEM_CLAY_WS_PORT: '9000', GOLEM_CLAY_ANNOUNCE: '/dns4/a.example/tcp/443/tls/ws,/ip4/1.2.3.4/tcp/9091' }
    const { config } = parseRelayConfig(['--http-port', '8001'], env)
    expect(config.httpPort).toBe(8001)
    expect(config.wsPort).toBe(9000)
    expect(config.announce.map(String)).toEqual(['/dns4/a.example/tcp/443/tls/ws', '/ip4/1.2.3.4/tcp/9091'])
  })

  it('serves /metrics on loopback by default, elsewhere or nowhere when told, and names a bad address', () => {
    expect(parseRelayConfig([], {}).config.metrics).toEqual({ host: '127.0.0.1', port: 9464 })
    expect(parseRelayConfig(['--metrics-listen', '[::1]:9100'], {}).config.metrics).toEqual({ host: '::1', port: 9100 })
    expect(parseRelayConfig([], { GOLEM_CLAY_METRICS_LISTEN: 'off' }).config.metrics).toBeUndefined()
    for (const bad of ['9464', 'localhost:9464', '127.0.0.1:99999', '1.2.3:80']) {
      expect(() => parseRelayConfig(['--metrics-listen', bad], {})).toThrow(InvalidConfigError)
    }
  })

  it('takes a log level, --quiet meaning errors only, and names a bad one', () => {
    expect(parseRelayConfig([], {}).config.log.level).toBe('info')
    expect(parseRelayConfig(['--log-level', 'debug'], {}).config.log.level).toBe('debug')
    expect(parseRelayConfig(['--quiet'], {}).config.log.level).toBe('error')
    expect(() => parseRelayConfig(['--log-level', 'loud'], {})).toThrow(/--log-level must be one of fatal, error, warn, info, debug, trace, silent/)
  })

  it('takes TLS files together (flags or env), with the secure WebSocket port, and refuses one alone', () => {
    expect(parseRelayConfig([], {}).config.tls).toBeUndefined()
    const { config } = parseRelayConfig(['--tls-cert', 'c.pem'], { GOLEM_CLAY_TLS_KEY: 'k.pem', GOLEM_CLAY_WSS_PORT: '443' })
    expect(config.tls).toMatchObject({ wssPort: 443 })
    expect(config.tls?.certFile).toMatch(/\/c\.pem$/)
    expect(config.tls?.keyFile).toMatch(/\/k\.pem$/)
    expect(parseRelayConfig(['--tls-cert', 'c.pem', '--tls-key', 'k.pem'], {}).config.tls?.wssPort).toBe(9443)
    expect(() => parseRelayConfig(['--tls-cert', 'c.pem'], {})).toThrow(/--tls-cert and --tls-key go together/)
    expect(() => parseRelayConfig(['--tls-key', 'k.pem'], {})).toThrow(InvalidConfigError)
  })

  it('takes a payment key file from the flag, GOLEM_CLAY_PAYMENT_KEY_FILE or the config file; none means <data>/payment-key', () => {
    expect(parseRelayConfig([], {}).config.paymentKeyFile).toBeUndefined()
    expect(parseRelayConfig(['--payment-key-file', 'keys/pay'], {}).config.paymentKeyFile).toMatch(/\/keys\/pay$/)
    expect(parseRelayConfig([], { GOLEM_CLAY_PAYMENT_KEY_FILE: '/etc/gc/pay' }).config.paymentKeyFile).toBe('/etc/gc/pay')
    const read = (): string => JSON.stringify({ 'payment-key-file': '/srv/pay' })
    expect(parseOptions(RELAY_OPTIONS, ['--config', '/etc/gc.json'], {}, read).values['payment-key-file']).toBe('/srv/pay')
  })

  it('bounds the drain on shutdown', () => {
    expect(parseRelayConfig([], {}).config.drainTimeout).toBe(5)
    expect(parseRelayConfig(['--drain-timeout', '30s'], {}).config.drainTimeout).toBe(30)
    expect(() => parseRelayConfig(['--drain-timeout', '10m'], {})).toThrow(/--drain-timeout is at most 120s/)
    expect(() => parseRelayConfig(['--drain-timeout', 'soon'], {})).toThrow(InvalidConfigError)
  })

  it('accepts repeated list flags', () => {
    const { config } = parseRelayConfig(['--announce', '/ip4/1.1.1.1/tcp/1', '--announce', '/ip4/2.2.2.2/tcp/2'], {})
    expect(config.announce).toHaveLength(2)
  })

  it.each([
    [['--http-port', 'abc'], /--http-port must be a port number/],
    [['--ws-port', '70000'], /--ws-port must be a port number between 0 and 65535/],
    [['--max-reservations', '0'], /--max-reservations must be an integer between 1/],
    [['--nope'], /Unknown option '--nope'/],
    [['--quiet', 'maybe'], /Unexpected argument|must be true or false/],
    [['--trusted-proxy', '10.0.0.0/99'], /--trusted-proxy: "10.0.0.0\/99" is not an IP address or CIDR range/],
    [['--limits-exempt', 'office'], /--limits-exempt: "office" is not an IP address/],
    [['--replication-allow', 'relay-b'], /--replication-allow takes peer IDs/],
    [['--reservation-ttl', 'soon'], /--reservation-ttl must be a duration/]
  ])('refuses %j with a message naming the flag', (argv, message) => {
    expect(() => parseRelayConfig(argv as string[], {})).toThrow(message)
    expect(() => parseRelayConfig(argv as string[], {})).toThrow(InvalidConfigError)
  })

  it('names the env var when the bad value came from there', () => {
    expect(() => parseRelayConfig([], { GOLEM_CLAY_TCP_PORT: '-1' })).toThrow(/GOLEM_CLAY_TCP_PORT must be a port number/)
  })

  it('refuses a malformed announce multiaddr with a typed error', () => {
    expect(() => parseRelayConfig(['--announce', '/ip4/999.0.0.1/tcp/x'], {})).toThrow(InvalidMultiaddrError)
  })

  it('reads a JSON config file below flags and env vars', () => {
    const files: Record<string, string> = { '/etc/gc.json': JSON.stringify({ 'http-port': 8100, seed: ['/ip4/1.2.3.4/tcp/9091/p2p/12D3KooWSWSy6aSxE7GoGSEEoonvFPa8pYLxg1xQ7hWXHYfZX7ZR'], quiet: true }) }
    const read = (path: string): string => { const text = files[path]; if (text == null) throw Object.assign(new Error('missing'), { code: 'ENOENT' }); return text }
    const { values } = parseOptions(RELAY_OPTIONS, ['--config', '/etc/gc.json', '--ws-port', '9100'], { GOLEM_CLAY_HTTP_PORT: '8200' }, read)
    expect(values['http-port']).toBe(8200) // env beats the file
    expect(values['ws-port']).toBe(9100)
    expect(values.quiet).toBe(true)
    expect(values.seed).toEqual(['/ip4/1.2.3.4/tcp/9091/p2p/12D3KooWSWSy6aSxE7GoGSEEoonvFPa8pYLxg1xQ7hWXHYfZX7ZR'])
    expect(() => parseOptions(RELAY_OPTIONS, ['--config', '/nope.json'], {}, read)).toThrow(/Cannot read config file \/nope.json: ENOENT/)
    files['/bad.json'] = '{"http-port": '
    expect(() => parseOptions(RELAY_OPTIONS, ['--config', '/bad.json'], {}, read)).toThrow(/not valid JSON/)
    files['/unknown.json'] = '{"colour": "blue"}'
    expect(() => parseOptions(RELAY_OPTIONS, ['--config', '/unknown.json'], {}, read)).toThrow(/unknown option "colour"/)
    files['/typo.json'] = '{"http-port": "eighty"}'
    expect(() => parseOptions(RELAY_OPTIONS, ['--config', '/typo.json'], {}, read)).toThrow(/"http-port" in \/typo.json must be a port number/)
  })

  it('wants seeds with a peer ID', () => {
    expect(() => parseRelayConfig(['--seed', '/ip4/1.2.3.4/tcp/9091'], {})).toThrow(/--seed .* must end with \/p2p\/<peer ID>/)
    expect(parseRelayConfig(['--seed', '/ip4/1.2.3.4/tcp/9091/p2p/12D3KooWSWSy6aSxE7GoGSEEoonvFPa8pYLxg1xQ7hWXHYfZX7ZR'], {}).config.seeds).toHaveLength(1)
  })

  it('has per-address limits with documented defaults, settable like every option', () => {
    const { config } = parseRelayConfig([], {})
    expect(config).toMatchObject({ maxPendingConnections: 256, reservationTtl: 900, trustedProxies: [], perAddress: { pendingConnections: 8, pendingHandshakes: 8, reservations: 32, exempt: [] } })
    expect(config.session.helloTimeout).toBe(5000)
    expect(config.storage).toMatchObject({ replicationAllow: [], replicationAllowAnyRelay: false, maxUploads: 1024, maxUploadsPerPeer: 16, maxUploadsPerAddress: 64 })
    const set = parseRelayConfig(['--trusted-proxy', '127.0.0.1,::1', '--max-reservations-per-address', '2'], { GOLEM_CLAY_LIMITS_EXEMPT: '10.0.0.0/8', GOLEM_CLAY_STATUS_TOKEN: 't' }).config
    expect(set).toMatchObject({ trustedProxies: ['127.0.0.1', '::1'], statusToken: 't', perAddress: { reservations: 2, exempt: ['10.0.0.0/8'] } })
  })

  it('asks for help', () => {
    expect(parseRelayConfig(['--help'], {}).help).toBe(true)
  })
})
