import { createServer, request } from 'node:http'
import { describe, expect, it } from 'vitest'
import { parseCidr } from '../../shared/connection/index.ts'
import { clientOf, forwardedForRequest } from './forwarded-for.ts'
import type { AddressInfo } from 'node:net'

describe('X-Forwarded-For from trusted proxies', () => {
  it('names the first hop from the right that is not a trusted proxy', () => {
    const trusted = [parseCidr('127.0.0.0/8'), parseCidr('10.0.0.0/8')]
    expect(clientOf('203.0.113.7', trusted)).toBe('203.0.113.7')
    // a client may write anything before its real address: the proxy appends what it saw
    expect(clientOf('6.6.6.6, 203.0.113.7, 10.0.0.2', trusted)).toBe('203.0.113.7')
    expect(clientOf('[2001:db8::1]:443', trusted)).toBe('2001:db8::1')
    expect(clientOf('198.51.100.1:5678', trusted)).toBe('198.51.100.1')
    expect(clientOf('garbage', trusted)).toBeUndefined()
    expect(clientOf('10.0.0.1', trusted)).toBeUndefined()
    expect(clientOf(undefined, trusted)).toBeUndefined()
  })

  it('gives the upgrade handler the client\'s address only when a trusted proxy sent it', async () => {
    const seen: Array<string | undefined> = []
    const serve = async (trusted: string[]): Promise<void> => {
      const server = createServer({ IncomingMessage: forwardedForRequest(trusted) })
      server.on('upgrade', (req, socket) => { seen.push(req.socket.remoteAddress); socket.destroy() })
      await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
      const port = (server.address() as AddressInfo).port
      await new Promise<void>(resolve => {
        const req = request({ port, host: '127.0.0.1', headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'X-Forwarded-For': '203.0.113.9' } })
        req.on('error', () => { resolve() })
        req.on('close', () => { resolve() })
        req.end()
      })
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
    await serve(['127.0.0.1'])
    await serve(['192.0.2.0/24'])
    expect(seen).toEqual(['203.0.113.9', '127.0.0.1'])
  })
})
