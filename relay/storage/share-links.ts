import { RateLimitError, RateLimiter } from '@libp2p/utils'
import { AccessDeniedError, ANYONE, decodeToken, encodeControl, InvalidTokenError, ShareNotFoundError, TooManyLookupsError, validateObjectPath, verifyToken } from '../../shared/storage/index.ts'
import { findObject } from './handler-context.ts'
import { objectInfo } from './object-meta.ts'
import { ShareStore } from './share-store.ts'
import type { HandlerContext } from './handler-context.ts'
import type { FrameStream, ResolveRequest, ShareRequest } from '../../shared/storage/index.ts'
import type { Connection, Logger } from '@libp2p/interface'

export interface ShareLookupLimit {
  /** Lookups allowed per `duration` from one network address (all its peer IDs together). */
  points: number
  /** Window, seconds. */
  duration: number
}

/** A lookup that finds nothing costs this many: guessing IDs runs dry long before honest use does. */
export const MISS_COST = 5

export interface ShareLinksInit {
  /** Folder of the share records. */
  dir: string
  max: number
  maxPerOwner: number
  lookups: ShareLookupLimit
  log: Logger
  /** The relay's own addresses a link carries, for the sharer's connection: one, the one tabs can dial. */
  linkAddrs: (conn: Connection) => string[]
  /** Over the lookup limit: a strike against the peer and its address, as the session layer counts them. */
  onLimited: (conn: Connection) => void
}

/**
 * Share links on the relay: `share` keeps an uploader's read token under a
 * random 128-bit ID; `resolve` hands it to whoever the token is for. IDs are
 * bearer capabilities, so lookups are limited per network address (not per
 * peer ID: those are free), misses cost more, and going over strikes the
 * peer and its address in the session layer.
 */
export class ShareLinks {
  readonly store: ShareStore
  private readonly lookups: RateLimiter

  constructor (private readonly init: ShareLinksInit) {
    this.store = new ShareStore({ dir: init.dir, max: init.max, maxPerOwner: init.maxPerOwner, log: init.log })
    this.lookups = new RateLimiter({ points: init.lookups.points, duration: init.lookups.duration, keyPrefix: 'share-lookup' })
  }

  async open (): Promise<void> {
    await this.store.open()
  }

  /** Only the uploader shares, on the relay it uploaded to, with a valid read token of its own for that object. */
  async share (ctx: HandlerContext, req: ShareRequest, fs: FrameStream, conn: Connection, signal: AbortSignal): Promise<void> {
    const requester = conn.remotePeer.toString()
    const obj = await findObject(ctx, req.drive, validateObjectPath(req.path))
    if (obj.handle.owner == null || obj.meta.owner !== requester) {
      ctx.counters.add('access-denied')
      throw new AccessDeniedError('Only the uploader may share an object, on the relay it uploaded to')
    }
    const now = Date.now()
    let grantee: string
    let exp: number
    try {
      const claims = decodeToken(req.token).claims
      await verifyToken(req.token, { holder: claims.sub, op: 'read', drive: obj.handle.key, path: obj.path, sha256: obj.meta.sha256, issuers: [obj.meta.owner], now })
      // no grace here: a share must work when it is made
      if (claims.exp <= now) throw new InvalidTokenError('The token has expired')
      grantee = claims.sub
      exp = claims.exp
    } catch (err) {
      ctx.counters.add('bad-token')
      throw err
    }
    const record = await this.store.add({ token: req.token, drive: obj.handle.key, path: obj.path, owner: requester, grantee, expiresAt: Math.min(exp, obj.meta.expiresAt) }, now)
    await fs.write(encodeControl({ v: 1, type: 'shared', id: record.id, expiresAt: record.expiresAt, relays: this.init.linkAddrs(conn) }), { signal })
  }

  /** Counted against the address's lookups before anything is read; a share for another peer is refused. */
  async resolve (ctx: HandlerContext, req: ResolveRequest, fs: FrameStream, conn: Connection, signal: AbortSignal): Promise<void> {
    const requester = conn.remotePeer.toString()
    const key = ctx.addressOf(conn) ?? `peer:${requester}`
    this.take(ctx, conn, key, 1)
    const record = this.store.get(req.id)
    if (record == null) {
      ctx.counters.add('unknown-share')
      this.lookups.penalty(key, MISS_COST - 1)
      throw new ShareNotFoundError('No such share link on this relay: it may have expired, or been copied incompletely')
    }
    if (record.grantee !== ANYONE && record.grantee !== requester && record.owner !== requester) {
      ctx.counters.add('access-denied')
      throw new AccessDeniedError(`This link was shared with another peer; ask its owner for one for you (your peer ID is ${requester})`)
    }
    const obj = await findObject(ctx, record.drive, record.path)
    const object = objectInfo(obj.handle.key, obj.path, obj.meta, ctx.relaysFor(obj.handle, conn))
    await fs.write(encodeControl({ v: 1, type: 'resolved', object, token: record.token, grantee: record.grantee, expiresAt: record.expiresAt }), { signal })
  }

  private take (ctx: HandlerContext, conn: Connection, key: string, points: number): void {
    try {
      this.lookups.consume(key, points)
    } catch (err) {
      if (!(err instanceof RateLimitError)) throw err
      ctx.counters.add('rate-limited')
      this.init.onLimited(conn)
      throw new TooManyLookupsError(`Too many share link lookups from your address: try again in ${Math.ceil(err.msBeforeNext / 1000)} s`)
    }
  }
}
