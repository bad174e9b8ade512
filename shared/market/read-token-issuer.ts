import { issueToken, parseAddress } from '../storage/index.ts'
import type { TaskHeader } from './market-codec.ts'
import type { PrivateKey } from '@libp2p/interface'

export interface ReadTokenIssuerInit {
  /** How long a read token stays valid, ms. @default 7_200_000 */
  ttl?: number
  /** The clock, ms since the epoch. @default Date.now */
  now?: () => number
}

export interface ReadTokenIssuer {
  /** A read token for `ref` issued to `grantee`: the one already made, unless it has less than a tenth of its life left. */
  get: (grantee: string, ref: TaskHeader['module']) => Promise<string>
}

export const READ_TOKEN_TTL = 2 * 3_600_000

/**
 * The read tokens a requestor gives providers for a task's module and
 * inputs. A task may run for days and a provider may come back (a reloaded
 * tab keeps its peer ID) long after its first token was made, so a token
 * near its end is issued again rather than handed out once for good.
 */
export function readTokenIssuer (key: PrivateKey, init: ReadTokenIssuerInit = {}): ReadTokenIssuer {
  const ttl = init.ttl ?? READ_TOKEN_TTL
  const now = init.now ?? Date.now
  const made = new Map<string, { token: Promise<string>, expires: number }>()
  return {
    async get (grantee, ref) {
      const id = `${grantee} ${ref.address}`
      let entry = made.get(id)
      if (entry == null || entry.expires - now() < ttl / 10) {
        const a = parseAddress(ref.address)
        const at = now()
        const fresh = { token: issueToken(key, { grantee, op: 'read', drive: a.drive, path: a.path, sha256: a.sha256, ttl, now: at }), expires: at + ttl }
        made.set(id, fresh)
        // a failed signature is not kept
        fresh.token.catch(() => { if (made.get(id) === fresh) made.delete(id) })
        entry = fresh
      }
      return await entry.token
    }
  }
}
