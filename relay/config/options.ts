import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { InvalidConfigError } from '../../shared/errors.ts'

export type OptionType = 'string' | 'integer' | 'port' | 'list' | 'boolean'

export interface OptionSpec {
  /** Flag name without dashes, e.g. `http-port`. */
  name: string
  type: OptionType
  /** Environment variable read when the flag is absent. */
  env?: string
  description: string
  default?: string | number | boolean | string[]
  /** Shown in help for the value, e.g. `<port>`. */
  placeholder?: string
  /** Smallest accepted integer. */
  min?: number
}

export type OptionValues = Record<string, string | number | boolean | string[] | undefined>

/** `--config <file>`: a JSON object of option names to values, below flags and env vars. */
export const CONFIG_OPTION: OptionSpec = { name: 'config', type: 'string', env: 'GOLEM_CLAY_CONFIG', placeholder: '<file.json>', description: 'JSON file with any of these options, e.g. {"seed": ["/dns4/…"], "http-port": 8080}' }

/**
 * Reads options from flags first, then environment variables, then the
 * `--config` file, then defaults. Every bad value becomes an
 * InvalidConfigError that names where it came from, so the operator knows
 * what to fix.
 */
export function parseOptions (specs: OptionSpec[], argv: string[], env: Record<string, string | undefined>, readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')): { values: OptionValues, help: boolean } {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true, // refused below with a clearer message
      options: {
        help: { type: 'boolean', short: 'h' },
        config: { type: 'string' },
        ...Object.fromEntries(specs.map(s => [s.name, { type: s.type === 'boolean' ? 'boolean' : 'string', multiple: s.type === 'list' }]))
      }
    })
  } catch (err: any) {
    throw new InvalidConfigError(`${err.message.replace(/\. To specify.*$/s, '')} (see --help)`)
  }
  if (parsed.positionals.length > 0) {
    throw new InvalidConfigError(`Unexpected argument '${parsed.positionals[0] ?? ''}' (options take the form --name value; see --help)`)
  }
  const values: OptionValues = {}
  const given = parsed.values as Record<string, unknown>
  const configPath = (given.config as string | undefined) ?? env.GOLEM_CLAY_CONFIG
  const file = configPath != null && configPath !== '' ? readConfigFile(configPath, specs, readFile) : {}
  for (const spec of specs) {
    const flag = given[spec.name]
    const fromEnv = spec.env != null ? env[spec.env] : undefined
    const fromFile = file[spec.name]
    const source = flag != null ? `--${spec.name}` : fromEnv != null && fromEnv !== '' ? `${spec.env ?? ''}` : `"${spec.name}" in ${configPath ?? ''}`
    const raw = flag ?? (fromEnv != null && fromEnv !== '' ? fromEnv : undefined) ?? fromFile
    values[spec.name] = raw == null ? spec.default : convert(spec, raw, source)
  }
  return { values, help: given.help === true }
}

function readConfigFile (path: string, specs: OptionSpec[], readFile: (path: string) => string): Record<string, unknown> {
  let text: string
  try {
    text = readFile(path)
  } catch (err: any) {
    throw new InvalidConfigError(`Cannot read config file ${path}: ${err.code ?? err.message}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err: any) {
    throw new InvalidConfigError(`Config file ${path} is not valid JSON: ${err.message}`)
  }
  if (typeof value !== 'object' || value == null || Array.isArray(value)) throw new InvalidConfigError(`Config file ${path} must hold a JSON object`)
  const known = new Set(specs.map(s => s.name))
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw new InvalidConfigError(`Config file ${path} has an unknown option "${key}"`)
  }
  return value as Record<string, unknown>
}

function convert (spec: OptionSpec, raw: unknown, source: string): string | number | boolean | string[] {
  switch (spec.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw
      if (/^(1|true|yes|on)$/i.test(String(raw))) return true
      if (/^(0|false|no|off)$/i.test(String(raw))) return false
      throw new InvalidConfigError(`${source} must be true or false, got "${String(raw)}"`)
    case 'list': {
      if (typeof raw === 'object' && !Array.isArray(raw)) throw new InvalidConfigError(`${source} must be a list`)
      const items = Array.isArray(raw) ? raw : [raw]
      return items.flatMap(v => String(v).split(',')).map(v => v.trim()).filter(v => v !== '')
    }
    case 'integer':
    case 'port': {
      const text = String(raw).trim()
      const value = Number(text)
      const max = spec.type === 'port' ? 65535 : Number.MAX_SAFE_INTEGER
      const min = spec.min ?? 0
      if (!/^\d+$/.test(text) || value < min || value > max) {
        throw new InvalidConfigError(`${source} must be ${spec.type === 'port' ? 'a port number' : 'an integer'} between ${min} and ${max}, got "${text}"`)
      }
      return value
    }
    default:
      return String(raw)
  }
}

export function formatHelp (usage: string, summary: string, specs: OptionSpec[]): string {
  const rows = [...specs, CONFIG_OPTION].map(s => {
    const flag = `--${s.name}${s.type === 'boolean' ? '' : ` ${s.placeholder ?? '<value>'}`}`
    const def = s.default == null || (Array.isArray(s.default) && s.default.length === 0) ? '' : ` (default: ${Array.isArray(s.default) ? s.default.join(',') : String(s.default)})`
    const env = s.env != null ? `\n${' '.repeat(36)}env ${s.env}` : ''
    return `  ${flag.padEnd(34)}${s.description}${def}${env}`
  })
  return `${summary}\n\nUsage: ${usage}\n\nOptions:\n${rows.join('\n')}\n  ${'--help, -h'.padEnd(34)}Show this help\n\nEvery option can also be set in a JSON file given by --config <file> (env GOLEM_CLAY_CONFIG);\nflags win over env vars, env vars over the file.\n`
}
