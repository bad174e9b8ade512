import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { deserializePeers, serializePeers } from '../../shared/peer-keeper/index.ts'
import type { KeeperStore } from '../../shared/peer-keeper/index.ts'

/**
 * PeerKeeper records in a JSON file in the data folder. Written to a temp
 * file and renamed, so a crash mid-write never leaves a torn file behind.
 */
export function fileKeeperStore (path: string): KeeperStore {
  return {
    load: async () => {
      try {
        return deserializePeers(await readFile(path, 'utf8'))
      } catch (err: any) {
        if (err.code === 'ENOENT') return []
        throw err
      }
    },
    save: async (peers) => {
      await mkdir(dirname(path), { recursive: true })
      const tmp = `${path}.${process.pid}.tmp`
      await writeFile(tmp, serializePeers(peers), { mode: 0o600 })
      await rename(tmp, path)
    }
  }
}
