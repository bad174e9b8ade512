import { STORAGE_PROTOCOL, STORAGE_REPLICATION_PROTOCOL } from '../../shared/wire/index.ts'
import { machineLine, median, round } from '../common/index.ts'
import type { MachineInfo } from '../common/index.ts'

export interface Measure {
  /** Median MB/s (10^6 bytes per second). */
  MBps: number
  samples: Array<{ MBps: number, ours: number, rest: number }>
}

export interface PathFigures { rawUpload: Measure, upload: Measure, rawDownload: Measure, download: Measure }

export interface StorageBenchResult {
  machine: MachineInfo
  size: number
  reps: number
  tab: PathFigures
  node: PathFigures
  replication: Measure
  rawReplication: Measure
  seconds: number
}

/** Each storage transfer's MB/s over that of the raw one run just before it. */
export function pairRatios (storage: Measure, raw: Measure): number[] {
  return storage.samples.map((s, i) => s.MBps / (raw.samples[i]?.MBps ?? Number.NaN))
}

/**
 * Storage against raw, pair by pair: the median of `pairRatios`. The
 * machine's pace drifts between pairs minutes apart; within a pair it mostly
 * does not.
 */
export function pairRatio (storage: Measure, raw: Measure): number {
  return round(median(pairRatios(storage, raw)), 2)
}

/** Storage against raw as the ratio of their medians. */
export function medianRatio (storage: Measure, raw: Measure): number {
  return round(storage.MBps / raw.MBps, 2)
}

const pairs = (storage: Measure, raw: Measure): string => pairRatios(storage, raw).map(x => x.toFixed(2)).join(', ')
const runs = (m: Measure): string => m.samples.map(s => `${s.MBps} (${s.ours} / ${s.rest})`).join(', ')

/** The `## Storage` section of BENCHMARKS.md. */
export function storageSection (r: StorageBenchResult): string {
  const mib = r.size / 2 ** 20
  const m = r.machine
  const row = (path: string, dir: string, storage: Measure, raw: Measure): string =>
    `| ${path} | ${dir} | ${storage.MBps} | ${raw.MBps} | ${pairRatio(storage, raw).toFixed(2)}× | ${medianRatio(storage, raw).toFixed(2)}× |`
  return `## Storage

Hyperdrive storage on a relay, moved by the storage protocol (\`${STORAGE_PROTOCOL}\`), beside a raw transfer of the same bytes over a plain libp2p stream on the same connection, all in one run of \`npm run bench:storage\` (${r.seconds} s).

${machineLine(m, true)}

| Path | Direction | Storage MB/s | Raw MB/s | Storage / raw, pair by pair | Ratio of the medians |
|---|---|---|---|---|---|
${row('tab ↔ relay, WebSocket', 'upload', r.tab.upload, r.tab.rawUpload)}
${row('tab ↔ relay, WebSocket', 'download', r.tab.download, r.tab.rawDownload)}
${row('Node peer ↔ relay, TCP', 'upload', r.node.upload, r.node.rawUpload)}
${row('Node peer ↔ relay, TCP', 'download', r.node.download, r.node.rawDownload)}
| relay → relay, TCP | replication | ${r.replication.MBps} | ${r.rawReplication.MBps} | – | ${medianRatio(r.replication, r.rawReplication).toFixed(2)}× |

MB/s is 10^6 bytes per second, the median of ${r.reps} transfers of ${mib} MiB. Raw and storage transfers run in pairs, raw first, back to back; "pair by pair" is the median of each storage transfer's MB/s over its own pair's raw one (tab upload ${pairs(r.tab.upload, r.tab.rawUpload)}; tab download ${pairs(r.tab.download, r.tab.rawDownload)}), which cancels the machine's drift between pairs minutes apart; the last column divides the two medians. Replication and its baseline are timed separately, not in pairs. Each transfer as MB/s (cores used by our processes / by the rest of the machine meanwhile): tab upload ${runs(r.tab.upload)}; raw ${runs(r.tab.rawUpload)}; tab download ${runs(r.tab.download)}; raw ${runs(r.tab.rawDownload)}; Node upload ${runs(r.node.upload)}; raw ${runs(r.node.rawUpload)}; Node download ${runs(r.node.download)}; raw ${runs(r.node.rawDownload)}; replication ${runs(r.replication)}; raw ${runs(r.rawReplication)}.

### Method

- **Processes.** Relay A and relay B are real relay gateways (\`startRelayGateway\`, storage on, Hashcash at 8 bits), each in its own Node process on 127.0.0.1 with its Corestore in a fresh temporary folder; B runs with \`--replicate-from\` A's TCP address. The bench process holds a Node peer (\`createNodePeer\`, TCP to A) and drives one headless Chromium tab running \`web/bench/storage.html\`, whose \`createBrowserNode\` reaches A over WebSocket. The machine has two cores, so the tab, the relay and the bench share them.
- **Storage upload** is timed from the call to \`storage.put()\` until the relay's \`stored\` reply. Objects this size (above 4 MiB) are not hashed before the upload starts: the request names path and size only, the client sends 256 KiB chunks, each with its SHA-256, reading and hashing the next chunk while one is sent, and names the whole content's hash in an \`end\` frame after the last chunk. That hash is, in the tab, one WebCrypto call over the whole object started when the upload starts and running off the main thread beside it (native SHA-256, ~750 MB/s here, where WebAssembly's hash-wasm does ~185); on the Node peer a running SHA-256 (Node's own) fed by the chunks as they are read. It keeps at most 16 MiB beyond the relay's last acknowledgement in flight. The relay checks each chunk's hash and feeds the whole-content hash as chunks arrive, acknowledges checked bytes every MiB, and appends the chunks to the drive's blob core without waiting for each append (up to 8 blocks of 256 KiB per append, one append at a time, up to 2 MiB queued behind it; past that the relay stops reading, which reaches the client through Yamux). Those blocks are the only copy the relay writes: a resumed upload continues from them (the drive's append lock keeps each upload's blocks contiguous; one that another upload followed is moved to the core's end on resume). After the last chunk (and the \`end\` frame) the relay waits for the appends, checks the whole-content hash against the promised one and commits the entry. The relay runs with \`--initial-old-space-size=128\` (\`relay/bin/node-flags.ts\`, as \`npm start\` runs it), without which V8 ran a major GC every few MB of streamed bytes. (Objects up to 4 MiB, and uploads with a write token, which binds the hash, are hashed first and name it in the request.) **Storage download** is timed from \`storage.get()\` until every chunk has arrived with its hash checked and the whole object's SHA-256 matched the address (one WebCrypto call over the received bytes in the tab, Node's own SHA-256 on the Node peer; into memory). The relay reads the blob's blocks from disk 8 ahead of the one it sends and hashes each as it goes. Each upload stores fresh random bytes under a new path; each download fetches an object stored in this run.
- **Raw baseline**: the same number of bytes, in the same 256 KiB pieces, over a plain libp2p stream (\`/golem-clay/storage-bench-raw/1.0.0\`, registered by the bench relay only) on the very connection the storage protocol used — the tab's WebSocket connection, the Node peer's TCP connection, B's TCP connection to A — with the same Noise encryption and Yamux framing. The relay only counts the bytes (upload) or sends them from memory (download). Upload is timed until the relay acknowledges the last byte, download until the last byte arrives. The ratio therefore isolates what the storage protocol adds: hashing, framing, flow control, disk and Hyperdrive.
- **Replication** is B's time from starting to fetch a new object's blocks from A (right after A committed it) until B holds them all, Hypercore's own replication protocol carried on \`${STORAGE_REPLICATION_PROTOCOL}\` (Hypercore's Noise stream inside libp2p's). The raw baseline is B pulling the same number of bytes from A over B's existing connection to A.
- A warm-up transfer of ${r.size > 0 ? 8 : 0} MiB per path goes first. Raw and storage transfers take turns (raw, storage, raw, storage, …; uploads, then downloads) so slow spells on the shared machine hit both. B copies every object A stores, and that copy uses the same two cores: after each storage upload the bench waits (untimed) until B holds it, so no timed transfer, raw or storage, overlaps replication; replication is timed on its own.
`
}
