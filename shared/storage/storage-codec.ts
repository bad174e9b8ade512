import { Uint8ArrayList } from 'uint8arraylist'
import { InvalidMessageError } from '../errors.ts'
import { decodeJson, encodeJson, expectHex, expectInt, expectLiteral, expectNumber, expectPeerId, expectRecord, expectSha256, expectString, expectStringList } from '../wire/index.ts'
import type { Fields } from '../wire/index.ts'
import { validateObjectPath } from './object-path.ts'
import { DATA_HEADER_LENGTH, FRAME_CONTROL, FRAME_DATA, MAX_CHUNK_SIZE, MAX_CONTROL_FRAME, MAX_OBJECT_SIZE, MIN_CHUNK_SIZE } from './storage-protocol.ts'
import { isShareId } from './share-link.ts'
import { ANYONE, MAX_TOKEN_LENGTH } from './transfer-token.ts'
import type { StorageWireError } from './errors.ts'

/** What the relay knows about a stored object. */
export interface ObjectInfo {
  drive: string
  path: string
  size: number
  sha256: string
  /** The uploader (the drive's owner). */
  owner: string
  createdAt: number
  expiresAt: number
  /** Relays holding the drive, best first (multiaddrs with /p2p/). */
  relays: string[]
}

/**
 * `sha256` names the content up front (needed with a token, which binds it,
 * and for deduplication before any byte moves); without it the client sends
 * the content's hash in a `PutEnd` after the last chunk, so it need not read
 * the whole source twice.
 */
export interface PutRequest { v: 1, op: 'put', path: string, size: number, sha256?: string, ttl?: number, chunkSize?: number, token?: string, drive?: string }
/** The client's last word on an upload whose request named no hash. */
export interface PutEnd { v: 1, type: 'end', sha256: string }
export interface GetRequest { v: 1, op: 'get', drive: string, path: string, offset: number, token?: string }
export interface StatRequest { v: 1, op: 'stat', drive: string, path: string, token?: string }
export interface DeleteRequest { v: 1, op: 'delete', drive: string, path: string }
/** "Which drive is mine on this relay?" (to issue write tokens into it). */
export interface DriveRequest { v: 1, op: 'drive' }
/** A relay asking to replicate this one. */
export interface ReplicateRequest { v: 1, op: 'replicate', addrs: string[] }
/** The uploader leaves a read token with the relay, to be found by a short share ID. */
export interface ShareRequest { v: 1, op: 'share', drive: string, path: string, token: string }
/** "What does this share ID give me?" */
export interface ResolveRequest { v: 1, op: 'resolve', id: string }

export type StorageRequest = PutRequest | GetRequest | StatRequest | DeleteRequest | DriveRequest | ReplicateRequest | ShareRequest | ResolveRequest

export type StorageReply =
  | { v: 1, type: 'ready', offset: number, chunkSize: number, drive: string }
  | { v: 1, type: 'ack', offset: number }
  | { v: 1, type: 'stored', object: ObjectInfo, deduplicated: boolean }
  | { v: 1, type: 'object', object: ObjectInfo, offset: number }
  | { v: 1, type: 'deleted' }
  | { v: 1, type: 'drive', drive: string, relays: string[] }
  | { v: 1, type: 'replica', catalog: string, relay: string }
  /** The share's ID, when it stops working, and the relay's addresses for a link. */
  | { v: 1, type: 'shared', id: string, expiresAt: number, relays: string[] }
  /** A share: its object, the token to read it with, who it is for (a peer ID, or ANYONE) and until when. */
  | { v: 1, type: 'resolved', object: ObjectInfo, token: string, grantee: string, expiresAt: number }
  | { v: 1, type: 'error', error: StorageWireError }

export interface DataFrame {
  offset: number
  sha256: Uint8Array
  bytes: Uint8Array
}

const OPS = ['put', 'get', 'stat', 'delete', 'drive', 'replicate', 'share', 'resolve'] as const
const REPLY_TYPES = ['ready', 'ack', 'stored', 'object', 'deleted', 'drive', 'replica', 'shared', 'resolved', 'error'] as const

/** A drive's key (a catalog's too): 32 bytes of hex. */
function expectDrive (obj: Fields, key = 'drive'): string {
  return expectHex(obj, key, 32)
}

function expectSize (obj: Fields, key: string, max = MAX_OBJECT_SIZE): number {
  return expectInt(obj, key, 0, max)
}

function optionalToken (obj: Fields): { token?: string } {
  return obj.token == null ? {} : { token: expectString(obj, 'token', MAX_TOKEN_LENGTH) }
}

function expectShareId (obj: Fields): string {
  const id = expectString(obj, 'id', 64)
  if (!isShareId(id)) throw new InvalidMessageError('"id" is not a share ID')
  return id
}

function expectGrantee (obj: Fields): string {
  return obj.grantee === ANYONE ? ANYONE : expectPeerId(obj, 'grantee')
}

function expectPath (obj: Fields): string {
  // a bad path is refused with InvalidPathError by the handler, not as garbage
  return expectString(obj, 'path', 4096)
}

/** Multiaddrs of relays. */
function expectAddrs (obj: Fields, key: string, maxItems: number): string[] {
  return expectStringList(obj, key, maxItems, 512)
}

export function validatePutEnd (value: unknown): PutEnd {
  const obj = expectRecord(value, 'end')
  expectLiteral(obj, 'v', [1])
  expectLiteral(obj, 'type', ['end'])
  return { v: 1, type: 'end', sha256: expectSha256(obj, 'sha256') }
}

export function validateRequest (value: unknown): StorageRequest {
  const obj = expectRecord(value, 'request')
  expectLiteral(obj, 'v', [1])
  const op = expectLiteral(obj, 'op', OPS)
  switch (op) {
    case 'put': {
      const req: PutRequest = { v: 1, op, path: expectPath(obj), size: expectSize(obj, 'size'), ...optionalToken(obj) }
      if (obj.sha256 != null) req.sha256 = expectSha256(obj, 'sha256')
      else if (req.token != null) throw new InvalidMessageError('A put with a token names its "sha256" up front: the token binds it')
      if (obj.ttl != null) req.ttl = expectSize(obj, 'ttl', 10 * 365 * 86400)
      if (obj.chunkSize != null) req.chunkSize = expectSize(obj, 'chunkSize', MAX_CHUNK_SIZE)
      if (obj.drive != null) req.drive = expectDrive(obj)
      return req
    }
    case 'get':
      return { v: 1, op, drive: expectDrive(obj), path: expectPath(obj), offset: expectSize(obj, 'offset'), ...optionalToken(obj) }
    case 'stat':
      return { v: 1, op, drive: expectDrive(obj), path: expectPath(obj), ...optionalToken(obj) }
    case 'delete':
      return { v: 1, op, drive: expectDrive(obj), path: expectPath(obj) }
    case 'drive':
      return { v: 1, op }
    case 'replicate':
      return { v: 1, op, addrs: expectAddrs(obj, 'addrs', 32) }
    case 'share':
      return { v: 1, op, drive: expectDrive(obj), path: expectPath(obj), token: expectString(obj, 'token', MAX_TOKEN_LENGTH) }
    case 'resolve':
      return { v: 1, op, id: expectShareId(obj) }
  }
}

function validateObjectInfo (value: unknown): ObjectInfo {
  const obj = expectRecord(value, 'object')
  const sha256 = expectSha256(obj, 'sha256')
  return {
    drive: expectDrive(obj),
    path: validatePathOrGarbage(obj.path),
    size: expectSize(obj, 'size'),
    sha256,
    owner: expectPeerId(obj, 'owner'),
    createdAt: expectNumber(obj, 'createdAt'),
    expiresAt: expectNumber(obj, 'expiresAt'),
    relays: expectAddrs(obj, 'relays', 16)
  }
}

function validatePathOrGarbage (path: unknown): string {
  try {
    return validateObjectPath(path)
  } catch (err: any) {
    throw new InvalidMessageError(err.message)
  }
}

export function validateReply (value: unknown): StorageReply {
  const obj = expectRecord(value, 'reply')
  expectLiteral(obj, 'v', [1])
  const type = expectLiteral(obj, 'type', REPLY_TYPES)
  switch (type) {
    case 'ready': {
      const chunkSize = expectSize(obj, 'chunkSize', MAX_CHUNK_SIZE)
      if (chunkSize < MIN_CHUNK_SIZE) throw new InvalidMessageError('"chunkSize" is too small')
      return { v: 1, type, offset: expectSize(obj, 'offset'), chunkSize, drive: expectDrive(obj) }
    }
    case 'ack':
      return { v: 1, type, offset: expectSize(obj, 'offset') }
    case 'stored':
      return { v: 1, type, object: validateObjectInfo(obj.object), deduplicated: obj.deduplicated === true }
    case 'object':
      return { v: 1, type, object: validateObjectInfo(obj.object), offset: expectSize(obj, 'offset') }
    case 'deleted':
      return { v: 1, type }
    case 'drive':
      return { v: 1, type, drive: expectDrive(obj), relays: expectAddrs(obj, 'relays', 16) }
    case 'replica':
      return { v: 1, type, catalog: expectDrive(obj, 'catalog'), relay: expectPeerId(obj, 'relay') }
    case 'shared':
      return { v: 1, type, id: expectShareId(obj), expiresAt: expectNumber(obj, 'expiresAt'), relays: expectAddrs(obj, 'relays', 16) }
    case 'resolved':
      return { v: 1, type, object: validateObjectInfo(obj.object), token: expectString(obj, 'token', MAX_TOKEN_LENGTH), grantee: expectGrantee(obj), expiresAt: expectNumber(obj, 'expiresAt') }
    case 'error': {
      const e = expectRecord(obj.error, 'error')
      const error: StorageWireError = { name: expectString(e, 'name', 64), message: expectString(e, 'message', 1024) }
      if (e.code != null) error.code = expectString(e, 'code', 64)
      if (e.offset != null) error.offset = expectSize(e, 'offset')
      return { v: 1, type, error }
    }
  }
}

/** A control frame: kind byte, then JSON. */
export function encodeControl (value: StorageRequest | StorageReply | PutEnd): Uint8Array {
  const json = encodeJson(value, MAX_CONTROL_FRAME - 1)
  const out = new Uint8Array(json.byteLength + 1)
  out[0] = FRAME_CONTROL
  out.set(json, 1)
  return out
}

/** A data frame's parts, sent without copying the chunk. */
export function encodeData (offset: number, sha256: Uint8Array, bytes: Uint8Array): Uint8ArrayList {
  const header = new Uint8Array(DATA_HEADER_LENGTH)
  const view = new DataView(header.buffer)
  header[0] = FRAME_DATA
  view.setUint32(1, Math.floor(offset / 2 ** 32))
  view.setUint32(5, offset >>> 0)
  header.set(sha256, 9)
  return new Uint8ArrayList(header, bytes)
}

export type Frame = { kind: 'control', bytes: Uint8Array } | { kind: 'data', data: DataFrame }

/** Splits a frame into control JSON bytes or a data chunk; anything else is garbage. */
export function decodeFrame (frame: Uint8Array): Frame {
  const kind = frame.byteLength > 0 ? frame[0] : -1
  if (kind === FRAME_CONTROL) {
    if (frame.byteLength > MAX_CONTROL_FRAME) throw new InvalidMessageError('Control frame too large')
    return { kind: 'control', bytes: frame.subarray(1) }
  }
  if (kind === FRAME_DATA) {
    if (frame.byteLength <= DATA_HEADER_LENGTH) throw new InvalidMessageError('Data frame without data')
    const view = new DataView(frame.buffer, frame.byteOffset, DATA_HEADER_LENGTH)
    const offset = view.getUint32(1) * 2 ** 32 + view.getUint32(5)
    if (!Number.isSafeInteger(offset)) throw new InvalidMessageError('Data frame offset out of range')
    return { kind: 'data', data: { offset, sha256: frame.subarray(9, DATA_HEADER_LENGTH), bytes: frame.subarray(DATA_HEADER_LENGTH) } }
  }
  throw new InvalidMessageError(`Unknown frame kind ${kind}`)
}

export type FrameParts = { kind: 'control', bytes: Uint8Array } | { kind: 'data', offset: number, sha256: Uint8Array, bytes: Uint8ArrayList }

/** Like `decodeFrame`, but a data frame's bytes stay in the parts they arrived in. */
export function decodeFrameParts (frame: Uint8ArrayList): FrameParts {
  if (frame.byteLength === 0 || frame.get(0) !== FRAME_DATA) {
    const f = decodeFrame(frame.subarray())
    if (f.kind === 'control') return f
    throw new InvalidMessageError('Unexpected frame')
  }
  if (frame.byteLength <= DATA_HEADER_LENGTH) throw new InvalidMessageError('Data frame without data')
  const { data } = decodeFrame(frame.subarray(0, DATA_HEADER_LENGTH + 1)) as { data: DataFrame }
  return { kind: 'data', offset: data.offset, sha256: data.sha256, bytes: frame.sublist(DATA_HEADER_LENGTH) }
}

export function decodeControl<T> (bytes: Uint8Array, validate: (v: unknown) => T): T {
  return decodeJson(bytes, validate)
}
