'use strict'
// Checks every request from the renderer before it reaches the engine. The renderer is less
// trusted than the main process: a compromised page must not be able to name a file outside
// scripts/, smuggle a non-JSON value, or lift the limits of a run.

const SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/
const HASH = /^[0-9a-f]{64}$/
/** `con.py` and friends name devices, not files, on Windows (the engine refuses them too). */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const KINDS = ['macro', 'utility', 'transform']
/** The store indexes scripts up to 1 MiB. */
const MAX_SOURCE_BYTES = 1 << 20
/** A run's context (as JSON) and its nesting, as the ABI allows. */
const MAX_CONTEXT_BYTES = 1 << 20
const MAX_DEPTH = 64
/** Values in one context at most: structured clone keeps shared references, so a few dozen
 * objects that each point twice at the next would otherwise make millions of paths to walk. */
const MAX_VALUES = 100_000
/** What the renderer may ask of one run at most. */
const MAX_DEADLINE_MS = 30_000
const MAX_MEMORY_MIB = 512

class RequestError extends Error {
  constructor(code, message) {
    super(message)
    this.name = 'BdsError'
    this.code = code
  }
}

function describe(v) {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v)
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`
}

function isPlainObject(v) {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** One argument's checker: (value, where) → the value to pass on, or throws. */
const check = {
  slug(v, where) {
    if (typeof v !== 'string') throw new RequestError('invalid-argument', `${where}: expected a script name, got ${describe(v)}`)
    if (!SLUG.test(v)) {
      const why = /[\\/]|\.\./.test(v)
        ? 'it would leave the scripts/ folder'
        : 'use 1 to 64 lowercase letters a-z, digits, "-" and "_", starting with a letter or digit'
      throw new RequestError('invalid-name', `${where}: ${JSON.stringify(v)} is not a valid script name: ${why}`)
    }
    if (WINDOWS_DEVICE.test(v)) {
      throw new RequestError('invalid-name', `${where}: ${JSON.stringify(v)} is not a valid script name: it is a device name on Windows`)
    }
    return v
  },
  source(v, where) {
    if (typeof v !== 'string') throw new RequestError('invalid-argument', `${where}: expected the source as a string, got ${describe(v)}`)
    const bytes = Buffer.byteLength(v, 'utf8')
    if (bytes > MAX_SOURCE_BYTES) throw new RequestError('invalid-argument', `${where}: the source is ${bytes} bytes, over the ${MAX_SOURCE_BYTES}-byte limit`)
    return v
  },
  boolean(v, where) {
    if (typeof v !== 'boolean') throw new RequestError('invalid-argument', `${where}: expected a boolean, got ${describe(v)}`)
    return v
  },
  optionalHash(v, where) {
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'string' || !HASH.test(v)) throw new RequestError('invalid-argument', `${where}: expected a content hash (64 hex digits), got ${describe(v)}`)
    return v
  },
  optionalSlug(v, where) {
    return v === undefined || v === null ? undefined : check.slug(v, where)
  },
  filter(v, where) {
    if (v === undefined || v === null) return undefined
    const o = known(v, where, ['kind', 'enabled'])
    if (o.kind !== undefined && !KINDS.includes(o.kind)) throw new RequestError('invalid-argument', `${where}.kind: expected one of ${KINDS.join(', ')}, got ${JSON.stringify(o.kind)}`)
    if (o.enabled !== undefined) check.boolean(o.enabled, `${where}.enabled`)
    return { kind: o.kind, enabled: o.enabled }
  },
  context(v, where) {
    if (v === undefined || v === null) return undefined
    if (!isPlainObject(v)) throw new RequestError('invalid-argument', `${where}: expected an object, got ${describe(v)}`)
    json(v, where, 0, { left: MAX_VALUES })
    const bytes = Buffer.byteLength(JSON.stringify(v), 'utf8')
    if (bytes > MAX_CONTEXT_BYTES) throw new RequestError('invalid-argument', `${where}: the context is ${bytes} bytes of JSON, over the ${MAX_CONTEXT_BYTES}-byte limit`)
    return v
  },
  runOptions(v, where) {
    if (v === undefined || v === null) return undefined
    const o = known(v, where, ['entry', 'deadlineMs', 'memoryMib', 'seed', 'fresh'])
    if (o.entry !== undefined && (typeof o.entry !== 'string' || !IDENTIFIER.test(o.entry))) {
      throw new RequestError('invalid-argument', `${where}.entry: expected a Python function name, got ${JSON.stringify(o.entry) ?? describe(o.entry)}`)
    }
    integer(o.deadlineMs, `${where}.deadlineMs`, 1, MAX_DEADLINE_MS)
    integer(o.memoryMib, `${where}.memoryMib`, 1, MAX_MEMORY_MIB)
    integer(o.seed, `${where}.seed`, 0, Number.MAX_SAFE_INTEGER)
    if (o.fresh !== undefined) check.boolean(o.fresh, `${where}.fresh`)
    return { entry: o.entry, deadlineMs: o.deadlineMs, memoryMib: o.memoryMib, seed: o.seed, fresh: o.fresh }
  },
}

function known(v, where, keys) {
  if (!isPlainObject(v)) throw new RequestError('invalid-argument', `${where}: expected an object, got ${describe(v)}`)
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) throw new RequestError('invalid-argument', `${where}: unknown option ${JSON.stringify(k)} (known: ${keys.join(', ')})`)
  }
  return v
}

function integer(v, where, min, max) {
  if (v === undefined) return
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RequestError('invalid-argument', `${where}: expected a whole number from ${min} to ${max}, got ${typeof v === 'number' ? v : describe(v)}`)
  }
}

/** Only what JSON can say: no functions, dates, maps, typed arrays, NaN or cycles. */
function json(v, where, depth, budget) {
  if (depth > MAX_DEPTH) throw new RequestError('invalid-argument', `${where}: nested deeper than ${MAX_DEPTH} levels`)
  if (--budget.left < 0) throw new RequestError('invalid-argument', `${where}: more than ${MAX_VALUES} values`)
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RequestError('invalid-argument', `${where}: ${v} is not a JSON number`)
    return
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => json(x, `${where}[${i}]`, depth + 1, budget))
    return
  }
  if (isPlainObject(v)) {
    for (const [k, x] of Object.entries(v)) json(x, `${where}.${k}`, depth + 1, budget)
    return
  }
  throw new RequestError('invalid-argument', `${where}: ${describe(v)} is not JSON`)
}

/**
 * Checks `args` against `params` (a list of [name, checker]) for `channel`. Extra arguments
 * are refused, so a renderer cannot pass what the main process did not expect.
 */
function validate(channel, params, args) {
  if (args.length > params.length) {
    throw new RequestError('invalid-argument', `${channel}: expected at most ${params.length} argument(s), got ${args.length}`)
  }
  return params.map(([name, checker], i) => check[checker](args[i], `${channel}: ${name}`))
}

module.exports = { validate, RequestError, MAX_DEADLINE_MS, MAX_MEMORY_MIB, MAX_SOURCE_BYTES }
