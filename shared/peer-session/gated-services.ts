import type { SessionManager } from './session-manager.ts'
import type { Registrar } from '@libp2p/interface-internal'

interface GatedComponents { registrar: Registrar, sessions: SessionManager }

/**
 * `registrar` with `handle` going through `sessions.handle`: handlers of
 * gated protocols are put behind the session gate as they are registered.
 */
export function gatedRegistrar (registrar: Registrar, sessions: () => SessionManager): Registrar {
  const handle: Registrar['handle'] = async (protocol, handler, options) => { await sessions().handle(protocol, handler, options) }
  return new Proxy(registrar, {
    get (target, key) {
      if (key === 'handle') return handle
      const value: unknown = Reflect.get(target, key, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}

/**
 * A service factory whose service registers its handlers through the
 * session layer without knowing it: for services from libp2p (kad,
 * gossipsub, the circuit relay server) that run Golem Clay protocols. The
 * `sessions` service must exist under that name.
 */
export function sessionGated<C extends GatedComponents, S> (factory: (components: C) => S): (components: C) => S {
  return (components) => {
    const registrar = gatedRegistrar(components.registrar, () => components.sessions)
    return factory(new Proxy(components, {
      get: (target, key) => key === 'registrar' ? registrar : Reflect.get(target, key)
    }))
  }
}

/** Every factory of `services` through `sessionGated` (never the `sessions` service itself). */
export function gatedServices<M extends Record<string, (components: any) => unknown>> (services: M): M {
  return Object.fromEntries(Object.entries(services).map(([name, factory]) => [name, name === 'sessions' ? factory : sessionGated(factory)])) as M
}
