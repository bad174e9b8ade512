import { sha256Once, toHex } from './digest.ts'
import { parseAddress } from './object-address.ts'
import { memorySink } from './sources.ts'
import type { GetOptions, StorageClient } from './storage-client.ts'

/** Hex SHA-256 of `bytes`: the name a storage address (and anything that points at stored content) gives them. */
export async function sha256Hex (bytes: Uint8Array): Promise<string> {
  return toHex(await sha256Once(bytes))
}

export interface GetBytesOptions extends GetOptions {
  /** A read token from the object's owner, for an address that carries none. */
  token?: string
}

/** Downloads a whole object into memory; the bytes are checked against the hash the address names. */
export async function getBytes (storage: Pick<StorageClient, 'get'>, address: string, options: GetBytesOptions = {}): Promise<Uint8Array> {
  const { token, ...rest } = options
  const parsed = parseAddress(address)
  const sink = memorySink(parsed.size)
  await storage.get(token != null ? { ...parsed, token } : parsed, sink, rest)
  return sink.bytes().slice()
}
