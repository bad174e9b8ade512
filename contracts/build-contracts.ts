/**
 * Compiles the Solidity contracts offline with solc-js (the compiler ships
 * inside the `solc` npm package; OpenZeppelin's sources are read from
 * node_modules):
 *
 *   node --import tsx contracts/build-contracts.ts
 *
 * writes dist/contracts/<Name>.json (ABI and bytecode) and
 * dist/contracts/abi.ts (the same as `as const` TypeScript for viem, which
 * contracts/index.ts re-exports). Build output only; dist/ is not committed.
 * Skips compiling when the sources, the compiler and the settings are those
 * of the last build.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GolemClayError } from '../shared/errors.ts'

/** solc reported errors: the message lists them. */
export class ContractCompileError extends GolemClayError { override name = 'ContractCompileError'; override readonly code = 'CONTRACT_COMPILE' }

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const require = createRequire(import.meta.url)

/** The contracts whose ABI and bytecode are built, by source file. */
export const CONTRACTS = { 'ClayDeposit.sol': 'ClayDeposit', 'ClayTestToken.sol': 'ClayTestToken' } as const

/** Where the output goes, relative to the repository root. */
export const CONTRACTS_OUTPUT_DIR = 'dist/contracts'

const SETTINGS = {
  // cancun: what the chains a deployment may pick (Ethereum, its rollups, Polygon, Gnosis) and Anvil all run
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } }
}

interface Built { contractName: string, abi: unknown[], bytecode: `0x${string}` }

/** Reads `@openzeppelin/contracts/…` imports from node_modules. */
function findImports (path: string): { contents: string } | { error: string } {
  const match = /^(@openzeppelin\/contracts)\/(.+\.sol)$/.exec(path)
  if (match == null) return { error: `not found: ${path} (only @openzeppelin/contracts is importable)` }
  try {
    return { contents: readFileSync(join(dirname(require.resolve(`${match[1]}/package.json`)), match[2] ?? ''), 'utf8') }
  } catch (err: any) {
    return { error: `${path}: ${err.message}` }
  }
}

function tsName (contractName: string): string {
  return contractName.charAt(0).toLowerCase() + contractName.slice(1)
}

/** Compiles (unless unchanged) and writes the output; returns what was built and whether it was compiled now. */
export async function buildContracts (root = ROOT): Promise<{ built: Built[], compiled: boolean, outDir: string }> {
  const sources: Record<string, { content: string }> = {}
  for (const file of (await readdir(join(root, 'contracts'))).filter(f => f.endsWith('.sol')).sort()) {
    sources[file] = { content: await readFile(join(root, 'contracts', file), 'utf8') }
  }
  const ozVersion = (require('@openzeppelin/contracts/package.json') as { version: string }).version
  const solcVersion = (require('solc/package.json') as { version: string }).version
  const hash = createHash('sha256').update(JSON.stringify({ solcVersion, ozVersion, SETTINGS, sources })).digest('hex')
  const outDir = join(root, CONTRACTS_OUTPUT_DIR)
  const infoFile = join(outDir, 'build-info.json')
  const names = Object.values(CONTRACTS)
  const previous = existsSync(infoFile) ? JSON.parse(await readFile(infoFile, 'utf8')) as { hash?: string } : {}
  if (previous.hash === hash && existsSync(join(outDir, 'abi.ts')) && names.every(n => existsSync(join(outDir, `${n}.json`)))) {
    const built = await Promise.all(names.map(async n => JSON.parse(await readFile(join(outDir, `${n}.json`), 'utf8')) as Built))
    return { built, compiled: false, outDir }
  }

  // loaded only to compile: the compiler takes seconds to start
  const { default: solc } = await import('solc')
  const input = { language: 'Solidity', sources, settings: SETTINGS }
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports })) as {
    errors?: Array<{ severity: string, formattedMessage: string }>
    contracts?: Record<string, Record<string, { abi: unknown[], evm: { bytecode: { object: string } } }>>
  }
  const errors = (output.errors ?? []).filter(e => e.severity === 'error')
  for (const warning of (output.errors ?? []).filter(e => e.severity !== 'error')) process.stderr.write(warning.formattedMessage)
  if (errors.length > 0) throw new ContractCompileError(`solc ${solc.version()}:\n${errors.map(e => e.formattedMessage).join('\n')}`)

  const built: Built[] = Object.entries(CONTRACTS).map(([file, contractName]) => {
    const compiled = output.contracts?.[file]?.[contractName]
    if (compiled == null) throw new ContractCompileError(`solc produced no ${contractName} in ${file}`)
    return { contractName, abi: compiled.abi, bytecode: `0x${compiled.evm.bytecode.object}` }
  })
  await mkdir(outDir, { recursive: true })
  for (const contract of built) {
    await writeFile(join(outDir, `${contract.contractName}.json`), JSON.stringify({ ...contract, compiler: solc.version() }, null, 2) + '\n')
  }
  const ts = [
    `// Built by contracts/build-contracts.ts from contracts/*.sol with solc ${solc.version()}: build output, do not edit.`,
    ...built.flatMap(({ contractName, abi, bytecode }) => [
      `export const ${tsName(contractName)}Abi = ${JSON.stringify(abi, null, 2)} as const`,
      `export const ${tsName(contractName)}Bytecode: \`0x\${string}\` = '${bytecode}'`
    ])
  ]
  await writeFile(join(outDir, 'abi.ts'), ts.join('\n') + '\n')
  await writeFile(infoFile, JSON.stringify({ hash, compiler: solc.version(), openzeppelin: ozVersion }, null, 2) + '\n')
  return { built, compiled: true, outDir }
}

if (process.argv[1] != null && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { built, compiled } = await buildContracts()
  for (const { contractName, bytecode } of built) {
    process.stdout.write(`contracts: ${contractName} (${(bytecode.length - 2) / 2} bytes${compiled ? '' : ', unchanged'}) -> ${CONTRACTS_OUTPUT_DIR}\n`)
  }
}
