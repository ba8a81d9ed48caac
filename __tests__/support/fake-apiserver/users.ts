// Static-token users and their RBAC-like permissions (see Permission).

import type { Permission } from './types.js'

export class Users {
  private readonly users = new Map<string, { token: string; allow: Permission[] | '*' }>()

  /** Adds (or replaces) a user; returns its token. */
  addUser(name: string, allow: Permission[] | '*', token?: string): string {
    const t = token ?? `token-${name}`
    this.users.set(name, { token: t, allow })
    return t
  }

  /** Changes a user's permissions (takes effect on the next request). */
  setPermissions(name: string, allow: Permission[] | '*'): void {
    const u = this.users.get(name)
    if (!u) throw new Error(`no user ${name}`)
    u.allow = allow
  }

  tokenFor(name: string): string {
    const u = this.users.get(name)
    if (!u) throw new Error(`no user ${name}`)
    return u.token
  }

  /** The user a `Bearer <token>` Authorization header names, if any. */
  authenticate(authorization: string | undefined): string | undefined {
    const m = (authorization ?? '').match(/^Bearer\s+(\S+)\s*$/i)
    let userName: string | undefined
    if (m) for (const [name, u] of this.users) if (u.token === m[1]) userName = name
    return userName
  }

  allowed(user: string, verb: string, resource: string, namespace: string): boolean {
    const u = this.users.get(user)
    if (!u) return false
    if (u.allow === '*') return true
    return u.allow.some((p) => {
      if (p.trim() === '*') return true
      const [v, r, ns] = p.trim().split(/\s+/)
      const verbs = (v ?? '').split(',')
      const resources = (r ?? '').split(',')
      return (
        (verbs.includes('*') || verbs.includes(verb)) &&
        (resources.includes('*') || resources.includes(resource)) &&
        (!ns || ns === '*' || ns === namespace)
      )
    })
  }
}
