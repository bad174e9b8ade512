import { createServer } from 'node:http'
import sirv from 'sirv'
import { TEST_WEB_ROOT } from './paths.ts'
import type { AddressInfo } from 'node:net'

export interface StaticServer {
  url: string
  close: () => Promise<void>
}

/** Serves the test build (`dist/test-web`: the page and the bench pages), or `root`, on a free loopback port. */
export async function startStaticServer (root = TEST_WEB_ROOT): Promise<StaticServer> {
  const serve = sirv(root, { dev: false, etag: false, gzip: false, maxAge: 0 })
  const server = createServer((req, res) => {
    serve(req, res, () => {
      res.writeHead(404, { 'Content-Type': 'text/plain' })
      res.end('not found\n')
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}
